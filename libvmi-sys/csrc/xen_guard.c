/*
 * Compile-time shim for upstream LibVMI's Xen driver: driver/xen/libxc_wrapper.c alone is
 * compiled with -Ddlsym=libvmi_sys_xen_dlsym (see build/main.rs), so the libxenctrl
 * functions it looks up come through here, and xc_domain_setmaxmem comes guarded: see
 * xen_setmaxmem_guard.h for why.
 */
#include <dlfcn.h>

#include "xen_setmaxmem_guard.h"

void *libvmi_sys_xen_dlsym(void *restrict handle, const char *restrict name);

void *libvmi_sys_xen_dlsym(void *restrict handle, const char *restrict name)
{
    return libvmi_sys_guard_xen_function(name, dlsym(handle, name));
}
