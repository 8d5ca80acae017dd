/*
 * The guard of LibVMI's xc_domain_setmaxmem calls, shared by the two places that hand out
 * libxenctrl's functions to LibVMI's Xen driver: the host build's dlsym wrapper
 * (libvmi-sys/csrc/xen_guard.c) and the Mini-OS archive's static resolver
 * (minios/csrc/dl_static.c). LibVMI makes three kinds of call, and two were wrong:
 *
 * 1. xc_domain_setmaxmem(xch, 0, 0). Upstream's xen_destroy() restores the target's
 *    maximum memory with xc_domain_setmaxmem(xch, xen->domainid, xen->original_max_mem).
 *    The driver probe (xen_test, on every vmi_init for Xen) runs xen_destroy() on a
 *    zero-initialised instance: from dom0 it set dom0's own maximum to 0 pages (seen under
 *    ci/xen/run: dom0's max_pages went from 196608 to 0 after one process listing; Xen
 *    then refuses dom0 any further allocation). LibVMI never means 0, so a request for a
 *    maximum of 0 is skipped and reported as done.
 * 2. xc_domain_setmaxmem(xch, domid, ~0): xen_init_vmi() lifts the target's maximum for
 *    the session ("to dynamically allocate gfns later on"). Passed on; the guard first
 *    reads the domain's max_pages (xc_domain_getinfolist, which the driver looks up too).
 * 3. xc_domain_setmaxmem(xch, domid, original_max_mem) from xen_destroy(): upstream
 *    computes original_max_mem as max_gpfn * XC_PAGE_SIZE, in bytes, where libxenctrl
 *    takes KiB, so every session left the guest a maximum 1024 times its own (and, for
 *    HVM guests, max_gpfn counts the MMIO hole too). The guard restores the max_pages it
 *    read at (2) instead. Sessions of this process on one domain nest: the maximum comes
 *    back when the last one ends. A domain the guard did not see unlocked (or whose
 *    maximum it could not read) gets LibVMI's value, as upstream.
 *
 * Not a patch of xen.c: the guard already stands between the driver and libxenctrl for
 * (1), and it restores what the hypervisor reported rather than a recomputation, so it
 * stays right if upstream fixes its units. ci/xen-test checks every domain's max_pages
 * before and after its checks.
 */
#ifndef LIBVMI_SYS_XEN_SETMAXMEM_GUARD_H
#define LIBVMI_SYS_XEN_SETMAXMEM_GUARD_H

#include <stdint.h>
#include <string.h>

typedef int (*libvmi_sys_setmaxmem_fn)(void *xch, uint32_t domid, uint64_t max_memkb);
typedef int (*libvmi_sys_getinfolist_fn)(void *xch, uint32_t first_domain,
                                         unsigned int max_domains, void *info);

static libvmi_sys_setmaxmem_fn libvmi_sys_upstream_setmaxmem;
static libvmi_sys_getinfolist_fn libvmi_sys_upstream_getinfolist;

/* The maxima this process lifted: domain, open sessions, max_pages before. */
static struct {
    uint32_t domid;
    uint32_t sessions;
    uint64_t max_pages;
} libvmi_sys_lifted[64];
static char libvmi_sys_lifted_lock;

/* The domain's max_pages, or -1. xc_domaininfo_t (struct xen_domctl_getdomaininfo) starts
 * with domid_t domain, uint16_t pad1, uint32_t flags, uint64 tot_pages, uint64 max_pages
 * (unchanged from Xen 4.2 to 4.20); the whole struct is under 256 bytes. getinfolist
 * reports the first domain at or after `domid`, hence the check of `domain`. */
static int64_t libvmi_sys_max_pages(void *xch, uint32_t domid)
{
    uint64_t info[64];
    uint16_t domain;
    uint64_t max_pages;

    if (!libvmi_sys_upstream_getinfolist ||
        libvmi_sys_upstream_getinfolist(xch, domid, 1, info) != 1)
        return -1;
    memcpy(&domain, info, sizeof(domain));
    memcpy(&max_pages, (const unsigned char *)info + 16, sizeof(max_pages));
    return domain == domid && max_pages <= INT64_MAX ? (int64_t)max_pages : -1;
}

static int libvmi_sys_guarded_setmaxmem(void *xch, uint32_t domid, uint64_t max_memkb)
{
    unsigned int i, slot = 64;

    if (max_memkb == 0)
        return 0;
    while (__atomic_test_and_set(&libvmi_sys_lifted_lock, __ATOMIC_ACQUIRE))
        ;
    for (i = 0; i < 64; i++) {
        if (libvmi_sys_lifted[i].sessions && libvmi_sys_lifted[i].domid == domid)
            break;
        if (!libvmi_sys_lifted[i].sessions && slot == 64)
            slot = i;
    }
    if (max_memkb == UINT64_MAX) {
        if (i < 64) {
            libvmi_sys_lifted[i].sessions++;
        } else if (slot < 64) {
            int64_t pages = libvmi_sys_max_pages(xch, domid);
            if (pages >= 0) {
                libvmi_sys_lifted[slot].domid = domid;
                libvmi_sys_lifted[slot].sessions = 1;
                libvmi_sys_lifted[slot].max_pages = (uint64_t)pages;
            }
        }
    } else if (i < 64) {
        if (--libvmi_sys_lifted[i].sessions) {
            __atomic_clear(&libvmi_sys_lifted_lock, __ATOMIC_RELEASE);
            return 0;
        }
        max_memkb = libvmi_sys_lifted[i].max_pages << 2;
    }
    __atomic_clear(&libvmi_sys_lifted_lock, __ATOMIC_RELEASE);
    return libvmi_sys_upstream_setmaxmem(xch, domid, max_memkb);
}

/* The function to hand out for libxenctrl's `name`, found at `f` (NULL: not found). Every
 * lookup of xc_domain_setmaxmem yields the same function; the guard keeps its own copy of
 * xc_domain_getinfolist. */
static inline void *libvmi_sys_guard_xen_function(const char *name, void *f)
{
    if (f && strcmp(name, "xc_domain_getinfolist") == 0)
        libvmi_sys_upstream_getinfolist = (libvmi_sys_getinfolist_fn)f;
    if (f && strcmp(name, "xc_domain_setmaxmem") == 0) {
        libvmi_sys_upstream_setmaxmem = (libvmi_sys_setmaxmem_fn)f;
        return (void *)libvmi_sys_guarded_setmaxmem;
    }
    return f;
}

#endif
