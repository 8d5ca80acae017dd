//! Every function the bindings declare is defined in the archive: this test takes the
//! address of each one (a table the build script generates from the bindings), so it
//! fails to link if upstream declares a function it never defines.

use libvmi_sys::*;

/// `(name, address)` of every function in the bindings.
const FUNCTIONS: &[(&str, *const ())] = include!(concat!(env!("OUT_DIR"), "/functions.rs"));

#[test]
fn every_bound_function_is_defined() {
    assert!(
        FUNCTIONS.len() > 100,
        "only {} functions bound",
        FUNCTIONS.len()
    );
    for (name, address) in FUNCTIONS {
        assert!(
            !std::hint::black_box(*address).is_null(),
            "{name} resolved to NULL"
        );
    }
    // The core entry points are among them.
    for name in [
        "vmi_init",
        "vmi_init_complete",
        "vmi_destroy",
        "vmi_read",
        "vmi_register_event",
    ] {
        assert!(
            FUNCTIONS.iter().any(|(n, _)| *n == name),
            "{name} is not bound"
        );
    }
}
