/*
 * Compile-time shim for upstream LibVMI's Xen driver: driver/xen/libxc_wrapper.c alone is
 * compiled with -Ddlsym=libvmi_sys_xen_dlsym (see build/main.rs), so the libxenctrl
 * functions it looks up come through here.
 *
 * Upstream's xen_destroy() restores the target's maximum memory with
 * xc_domain_setmaxmem(xch, xen->domainid, xen->original_max_mem). The driver probe
 * (xen_test, on every vmi_init for Xen) runs xen_destroy() on a zero-initialised instance,
 * i.e. xc_domain_setmaxmem(xch, 0, 0): from dom0 it set dom0's own maximum to 0 pages
 * (seen under ci/xen/run: dom0's max_pages went from 196608 to 0 after one process
 * listing; Xen then refuses dom0 any further allocation). LibVMI never means 0 (its calls
 * pass ~0 to unlock or the value it read at init), so the looked-up function is wrapped:
 * a request for a maximum of 0 is skipped and reported as done.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

typedef int (*setmaxmem_fn)(void *xch, uint32_t domid, uint64_t max_memkb);

static setmaxmem_fn upstream_setmaxmem;

static int guarded_setmaxmem(void *xch, uint32_t domid, uint64_t max_memkb)
{
    if (max_memkb == 0)
        return 0;
    return upstream_setmaxmem(xch, domid, max_memkb);
}

void *libvmi_sys_xen_dlsym(void *restrict handle, const char *restrict name);

void *libvmi_sys_xen_dlsym(void *restrict handle, const char *restrict name)
{
    void *f = dlsym(handle, name);
    if (f && strcmp(name, "xc_domain_setmaxmem") == 0) {
        /* Every dlopen of libxenctrl yields the same function. */
        upstream_setmaxmem = (setmaxmem_fn)f;
        return (void *)guarded_setmaxmem;
    }
    return f;
}
