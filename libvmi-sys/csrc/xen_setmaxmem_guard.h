/*
 * The guard of LibVMI's xc_domain_setmaxmem(xch, 0, 0), shared by the two places that hand
 * out libxenctrl's functions to LibVMI's Xen driver: the host build's dlsym wrapper
 * (libvmi-sys/csrc/xen_guard.c) and the Mini-OS archive's static resolver
 * (minios/csrc/dl_static.c).
 *
 * Upstream's xen_destroy() restores the target's maximum memory with
 * xc_domain_setmaxmem(xch, xen->domainid, xen->original_max_mem). The driver probe
 * (xen_test, on every vmi_init for Xen) runs xen_destroy() on a zero-initialised instance,
 * i.e. xc_domain_setmaxmem(xch, 0, 0): from dom0 it set dom0's own maximum to 0 pages
 * (seen under ci/xen/run: dom0's max_pages went from 196608 to 0 after one process
 * listing; Xen then refuses dom0 any further allocation). LibVMI never means 0 (its calls
 * pass ~0 to unlock or the value it read at init), so a request for a maximum of 0 is
 * skipped and reported as done.
 */
#ifndef LIBVMI_SYS_XEN_SETMAXMEM_GUARD_H
#define LIBVMI_SYS_XEN_SETMAXMEM_GUARD_H

#include <stdint.h>
#include <string.h>

typedef int (*libvmi_sys_setmaxmem_fn)(void *xch, uint32_t domid, uint64_t max_memkb);

static libvmi_sys_setmaxmem_fn libvmi_sys_upstream_setmaxmem;

static int libvmi_sys_guarded_setmaxmem(void *xch, uint32_t domid, uint64_t max_memkb)
{
    if (max_memkb == 0)
        return 0;
    return libvmi_sys_upstream_setmaxmem(xch, domid, max_memkb);
}

/* The function to hand out for libxenctrl's `name`, found at `f` (NULL: not found). Every
 * lookup of xc_domain_setmaxmem yields the same function. */
static inline void *libvmi_sys_guard_xen_function(const char *name, void *f)
{
    if (f && strcmp(name, "xc_domain_setmaxmem") == 0) {
        libvmi_sys_upstream_setmaxmem = (libvmi_sys_setmaxmem_fn)f;
        return (void *)libvmi_sys_guarded_setmaxmem;
    }
    return f;
}

#endif
