//! Which GLib LibVMI is linked with decides the names of the two GLib functions this crate
//! calls (to free the list `vmi_get_va_pages` returns): tinyglib exports them with a
//! `tinyglib_` prefix. libvmi-sys says which through its `links` metadata
//! (`cargo:glib=tinyglib` or `cargo:glib=system`, seen here as `DEP_VMI_GLIB`); without
//! it, the GLib names are used.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(libvmi_glib_tinyglib)");
    println!("cargo:rerun-if-env-changed=DEP_VMI_GLIB");
    if std::env::var("DEP_VMI_GLIB").as_deref() == Ok("tinyglib") {
        println!("cargo:rustc-cfg=libvmi_glib_tinyglib");
    }
}
