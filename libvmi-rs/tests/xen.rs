//! The Xen paths compile and, on a machine without Xen, fail cleanly with a useful error.
//! (Event delivery itself needs Xen: it is exercised by the Xen-in-QEMU tests.)

use libvmi::events::{EventSpec, MemAccess, RegAccess, Response};
use libvmi::{Config, Domain, Error, ErrorKind, Gfn, InitError, Mode, Register, Vmi};

fn xen_present() -> bool {
    std::path::Path::new("/proc/xen/capabilities").exists()
        || std::path::Path::new("/dev/xen/privcmd").exists()
}

#[test]
fn xen_init_by_name_fails_cleanly_without_xen() {
    if xen_present() {
        eprintln!("Xen is present here: this test checks the no-Xen error path only");
        return;
    }
    for events in [false, true] {
        let e = Vmi::xen("tinyvmi-no-such-domain")
            .events(events)
            .config(Config::GlobalFile)
            .init()
            .unwrap_err();
        let Error::Init {
            mode,
            domain,
            reason,
        } = &e
        else {
            panic!("expected an init error, got {e:?}");
        };
        assert_eq!(*mode, Mode::Xen);
        assert_eq!(domain, "domain tinyvmi-no-such-domain");
        // A LibVMI built without Xen fails without a reason; with Xen support, the driver
        // fails (no hypervisor or no privilege), or the domain is not found.
        assert!(
            matches!(
                reason,
                InitError::ModeUnavailable | InitError::Driver | InitError::VmNotFound
            ),
            "{reason:?}"
        );
        assert_eq!(e.kind(), ErrorKind::Init);
        let msg = e.to_string();
        assert!(
            msg.starts_with("cannot initialise LibVMI (Xen, domain tinyvmi-no-such-domain): "),
            "{msg}"
        );
        eprintln!("{msg}");
    }
}

#[test]
fn xen_init_by_id_fails_cleanly_without_xen() {
    if xen_present() {
        return;
    }
    let e = Vmi::xen_id(4242).init_driver().unwrap_err();
    assert!(
        matches!(&e, Error::Init { mode: Mode::Xen, domain, .. } if domain == "domain id 4242"),
        "{e}"
    );
    let e = Vmi::builder(Mode::Kvm, Domain::Name("vm".into()))
        .init()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Init {
                mode: Mode::Kvm,
                ..
            }
        ),
        "{e}"
    );
    // File mode with a domain id is refused before LibVMI is called
    let e = Vmi::builder(Mode::File, Domain::Id(1)).init().unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
}

/// The event API type-checks for every event kind (compile-time coverage of the Xen path).
#[allow(dead_code)]
fn event_api_compiles(vmi: &mut Vmi) -> libvmi::Result<()> {
    let specs = [
        EventSpec::register(Register::CR3, RegAccess::W).on_change(true),
        EventSpec::memory(Gfn(0x1000), MemAccess::W | MemAccess::X),
        EventSpec::memory_generic(MemAccess::RWX),
        EventSpec::single_step(1),
        EventSpec::interrupt_int3(),
        EventSpec::cpuid(),
        EventSpec::debug_exception(),
    ];
    for spec in specs {
        let id = vmi.register_event(spec, |vmi, event| {
            let _ = vmi.read_u64(libvmi::AccessContext::kernel(libvmi::Va(0)));
            let _ = event.info();
            event.set_reinject(true);
            Response::NONE
        })?;
        vmi.listen(std::time::Duration::from_millis(1))?;
        vmi.clear_event(id)?;
    }
    Ok(())
}
