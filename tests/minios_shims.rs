//! The Mini-OS-specific pieces, exercised on the host: the static `dlsym` resolver
//! (against the host's real libxenctrl/libxenstore), the blob-backed `fopen`, the
//! `getline` and `iconv` stand-ins, and LibVMI's own config parser reading a config
//! registered as a blob.
//!
//! The config-parser test feeds LibVMI's bison/flex parser a stream opened with
//! `tinyvmi_fopen`, which is what `core.c` does in the archive (where its `fopen` is
//! renamed); the host build of `core.c` itself is `libvmi-sys`'s, without the rename.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io::Write as _;

use tinyvmi::stdio::{tinyvmi_fopen, File};

extern "C" {
    // minios/csrc/dl_static.c and the table generated for the host.
    fn tinyvmi_dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
    fn tinyvmi_dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    fn tinyvmi_dlclose(handle: *mut c_void) -> c_int;
    fn tinyvmi_dlerror() -> *mut c_char;
    // minios/csrc/stdio_compat.c
    fn tinyvmi_getline(line: *mut *mut c_char, n: *mut usize, f: *mut File) -> isize;
    // The host's dynamic loader (glibc), for comparison.
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    // libc
    fn fread(ptr: *mut c_void, size: usize, n: usize, f: *mut File) -> usize;
    fn fclose(f: *mut File) -> c_int;
    fn free(p: *mut c_void);
    // LibVMI's config parser (config/grammar.y, lexicon.l).
    static mut yyin: *mut File;
    fn vmi_parse_config(target: *const c_char) -> c_int;
    fn vmi_get_config() -> *mut c_void;
}

const RTLD_DEFAULT: *mut c_void = std::ptr::null_mut();

/// The names the generated table provides, and those it lists as not provided.
fn table() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(env!("TINYVMI_DL_TABLE")).unwrap();
    let provided = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("{ \""))
        .map(|l| l.split('"').next().unwrap().to_string())
        .collect();
    let missing = text
        .split("not provided here")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("*   "))
        .map(str::to_string)
        .collect();
    (provided, missing)
}

fn read_all(f: *mut File) -> Vec<u8> {
    assert!(!f.is_null());
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = unsafe { fread(buf.as_mut_ptr().cast(), 1, buf.len(), f) };
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    unsafe { fclose(f) };
    out
}

#[test]
fn resolver_returns_the_linked_functions() {
    let (provided, missing) = table();
    assert!(provided.iter().any(|n| n == "xc_interface_open"));
    assert!(provided.iter().any(|n| n == "xs_open"));
    let h = unsafe { tinyvmi_dlopen(c"libxenctrl.so.4.17".as_ptr(), 2) };
    assert!(!h.is_null());
    for name in &provided {
        let c = CString::new(name.as_str()).unwrap();
        let ours = unsafe { tinyvmi_dlsym(h, c.as_ptr()) };
        let real = unsafe { dlsym(RTLD_DEFAULT, c.as_ptr()) };
        assert!(!ours.is_null(), "{name}");
        if name == "xc_domain_setmaxmem" {
            // The guard of LibVMI's probe (minios/csrc/dl_static.c), not the function.
            assert_ne!(ours, real, "{name}");
        } else {
            assert_eq!(ours, real, "{name}");
        }
    }
    for name in &missing {
        let c = CString::new(name.as_str()).unwrap();
        assert!(unsafe { tinyvmi_dlsym(h, c.as_ptr()) }.is_null(), "{name}");
    }
    assert_eq!(unsafe { tinyvmi_dlclose(h) }, 0);
}

/// LibVMI's Xen probe destroys a zero-initialised instance: `xc_domain_setmaxmem(xch, 0,
/// 0)`, dom0's maximum memory to 0. The resolved function skips a maximum of 0 without
/// touching libxenctrl (here with no interface handle at all: reaching the real function
/// would crash); other maximums reach Xen (`ci/minios-real --introspect`: LibVMI's init
/// fails unless its `setmaxmem(domid, ~0)` does).
#[test]
fn resolver_guards_setmaxmem_of_zero() {
    type SetMaxMem = unsafe extern "C" fn(*mut c_void, u32, u64) -> c_int;
    let h = unsafe { tinyvmi_dlopen(c"libxenctrl.so".as_ptr(), 2) };
    assert!(!h.is_null());
    let f = unsafe { tinyvmi_dlsym(h, c"xc_domain_setmaxmem".as_ptr()) };
    assert!(!f.is_null());
    // SAFETY: the resolver hands out a function of libxenctrl's signature.
    let f: SetMaxMem = unsafe { core::mem::transmute::<*mut c_void, SetMaxMem>(f) };
    for domid in [0, 7] {
        assert_eq!(unsafe { f(core::ptr::null_mut(), domid, 0) }, 0);
    }
}

#[test]
fn resolver_reports_unknown_names_and_libraries() {
    let h = unsafe { tinyvmi_dlopen(c"libxenstore.so".as_ptr(), 2) };
    assert!(!h.is_null());
    let _ = unsafe { tinyvmi_dlerror() };
    assert!(unsafe { tinyvmi_dlsym(h, c"no_such_function".as_ptr()) }.is_null());
    let msg = unsafe { CStr::from_ptr(tinyvmi_dlerror()) }
        .to_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("no_such_function"), "{msg}");
    // Read once, then cleared, like dlerror.
    assert!(unsafe { tinyvmi_dlerror() }.is_null());
    assert!(unsafe { tinyvmi_dlopen(c"libvirt.so".as_ptr(), 2) }.is_null());
    assert!(!unsafe { tinyvmi_dlerror() }.is_null());
}

#[test]
fn fopen_serves_registered_blobs() {
    static DATA: &[u8] = b"ffffffff81000000 T _text\nffffffff81e0c000 D init_task\n";
    assert_eq!(
        unsafe {
            tinyvmi::blobs::tinyvmi_blob_register(
                c"/boot/System.map-test".as_ptr(),
                DATA.as_ptr().cast(),
                DATA.len(),
            )
        },
        0
    );
    let f = unsafe { tinyvmi_fopen(c"/boot/System.map-test".as_ptr(), c"r".as_ptr()) };
    assert_eq!(read_all(f), DATA);

    // getline over the blob stream, as xen.c and the symbol readers do.
    let f = unsafe { tinyvmi_fopen(c"/boot/System.map-test".as_ptr(), c"rb".as_ptr()) };
    let (mut line, mut n) = (std::ptr::null_mut::<c_char>(), 0usize);
    let mut lines = Vec::new();
    loop {
        let got = unsafe { tinyvmi_getline(&mut line, &mut n, f) };
        if got < 0 {
            break;
        }
        lines.push(
            unsafe { CStr::from_ptr(line) }
                .to_str()
                .unwrap()
                .to_string(),
        );
        assert_eq!(got as usize, lines.last().unwrap().len());
    }
    unsafe { free(line.cast()) };
    unsafe { fclose(f) };
    assert_eq!(
        lines,
        [
            "ffffffff81000000 T _text\n",
            "ffffffff81e0c000 D init_task\n"
        ]
    );

    assert_eq!(
        unsafe { tinyvmi::blobs::tinyvmi_blob_unregister(c"/boot/System.map-test".as_ptr()) },
        0
    );
    assert!(unsafe { tinyvmi_fopen(c"/boot/System.map-test".as_ptr(), c"r".as_ptr()) }.is_null());
}

#[test]
fn fopen_falls_through_to_the_real_fopen() {
    let dir = std::env::temp_dir().join(format!("tinyvmi-fopen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("real.txt");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(b"on disk")
        .unwrap();
    let c = CString::new(path.to_str().unwrap()).unwrap();
    let f = unsafe { tinyvmi_fopen(c.as_ptr(), c"r".as_ptr()) };
    assert_eq!(read_all(f), b"on disk");
    // A registered name opened for writing is not a blob either.
    static RO: &[u8] = b"read only";
    tinyvmi::blobs::register(path.to_str().unwrap(), RO).unwrap();
    let f = unsafe { tinyvmi_fopen(c.as_ptr(), c"r".as_ptr()) };
    assert_eq!(read_all(f), RO);
    let f = unsafe { tinyvmi_fopen(c.as_ptr(), c"r+".as_ptr()) };
    assert_eq!(read_all(f), b"on disk");
    assert!(tinyvmi::blobs::unregister(path.to_str().unwrap()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn libvmi_config_parser_reads_a_blob() {
    static CONFIG: &[u8] = b"other { ostype = \"Windows\"; }\n\
        guest {\n    ostype = \"Linux\";\n    sysmap = \"/maps/System.map\";\n    linux_pid = 0x4b0;\n}\n";
    tinyvmi::blobs::register("/etc/libvmi.conf", CONFIG).unwrap();
    let f = unsafe { tinyvmi_fopen(c"/etc/libvmi.conf".as_ptr(), c"r".as_ptr()) };
    assert!(!f.is_null());
    unsafe {
        yyin = f;
        assert_eq!(vmi_parse_config(c"guest".as_ptr()), 0);
        fclose(f);
    }
    let config = unsafe { vmi_get_config() };
    assert!(!config.is_null());
    let lookup = |k: &CStr| unsafe {
        tinyglib::tinyglib_g_hash_table_lookup(config.cast(), k.as_ptr().cast())
    };
    let ostype = lookup(c"ostype");
    assert_eq!(unsafe { CStr::from_ptr(ostype.cast()) }, c"Linux");
    let sysmap = lookup(c"sysmap");
    assert_eq!(
        unsafe { CStr::from_ptr(sysmap.cast()) },
        c"/maps/System.map"
    );
    let pid = lookup(c"linux_pid");
    assert_eq!(unsafe { *pid.cast::<u64>() }, 0x4b0);
}

#[test]
fn iconv_through_the_c_abi() {
    use tinyvmi::iconv::{tinyvmi_iconv, tinyvmi_iconv_close, tinyvmi_iconv_open};
    unsafe {
        assert_eq!(
            tinyvmi_iconv_open(c"UTF-8".as_ptr(), c"EBCDIC".as_ptr()) as usize,
            usize::MAX
        );
        let cd = tinyvmi_iconv_open(c"UTF-8".as_ptr(), c"UTF-16".as_ptr());
        assert_ne!(cd as usize, usize::MAX);
        // "Sys€" in UTF-16LE, plus an emoji (surrogate pair).
        let input: Vec<u8> = "Sys€😀".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut out = [0u8; 32];
        let (mut ip, mut il) = (input.as_ptr() as *mut c_char, input.len());
        let (mut op, mut ol) = (out.as_mut_ptr().cast::<c_char>(), out.len());
        assert_eq!(tinyvmi_iconv(cd, &mut ip, &mut il, &mut op, &mut ol), 0);
        assert_eq!(il, 0);
        assert_eq!(&out[..32 - ol], "Sys€😀".as_bytes());
        // Output too small: -1, pointers advanced as far as converted.
        let (mut ip, mut il) = (input.as_ptr() as *mut c_char, input.len());
        let mut small = [0u8; 4];
        let (mut op, mut ol) = (small.as_mut_ptr().cast::<c_char>(), small.len());
        assert_eq!(
            tinyvmi_iconv(cd, &mut ip, &mut il, &mut op, &mut ol),
            usize::MAX
        );
        assert_eq!((&small[..4 - ol], il), (&b"Sys"[..], input.len() - 6));
        assert_eq!(tinyvmi_iconv_close(cd), 0);
    }
}
