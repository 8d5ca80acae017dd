/*
 * TinyVMI: dlopen/dlsym/dlclose/dlerror over a static table.
 *
 * LibVMI's Xen driver (driver/xen/libxc_wrapper.c, libxs_wrapper.c) finds libxenctrl
 * and libxenstore with dlopen/dlsym. A Mini-OS stub domain has no dynamic loader (its
 * dl* functions are stubs that fail), so the build compiles exactly those two files
 * with -Ddlopen=tinyvmi_dlopen (and dlsym, dlclose, dlerror likewise) and the calls
 * land here. The table (tinyvmi_dl_symbols) is generated at build time from the
 * names the wrappers ask for; the functions themselves come from the statically
 * linked Xen libraries.
 *
 * Single-threaded by design (Mini-OS has no threads): the error message lives in one
 * static buffer, like dlerror's, and no thread-local storage is used.
 */
#include <stdio.h>
#include <string.h>

#include "tinyvmi_dl.h"

/* xc_domain_setmaxmem comes guarded, as in the host build (LibVMI's probe would set
 * dom0's maximum memory to 0): libvmi-sys/csrc/xen_setmaxmem_guard.h. */
#include "xen_setmaxmem_guard.h"

/* The one "library" handle: every covered library shares the static namespace. */
static const char tinyvmi_dl_static_handle[] = "tinyvmi-static";

/* The libraries the driver opens (libxenctrl.so, libxenctrl.so.4.20,
 * libxenctrl-4.20.so, libxenstore.so, ...). */
static const char *const covered[] = { "libxenctrl", "libxenstore" };

static char error_buf[160];
static int error_set;

static void set_error(const char *what, const char *name)
{
    snprintf(error_buf, sizeof(error_buf), "tinyvmi: %s: %s", what, name ? name : "(null)");
    error_set = 1;
}

void *tinyvmi_dlopen(const char *file, int mode)
{
    size_t i;

    (void)mode;
    if (file) {
        for (i = 0; i < sizeof(covered) / sizeof(covered[0]); i++) {
            if (!strncmp(file, covered[i], strlen(covered[i])))
                return (void *)tinyvmi_dl_static_handle;
        }
    }
    set_error("no statically linked library", file);
    return NULL;
}

void *tinyvmi_dlsym(void *handle, const char *name)
{
    size_t i;

    if (handle != (void *)tinyvmi_dl_static_handle) {
        set_error("invalid handle for symbol", name);
        return NULL;
    }
    for (i = 0; name && i < tinyvmi_dl_symbols_len; i++) {
        /* A NULL address: a weak reference (Mini-OS) to a function this Xen release's
         * libraries lack, i.e. what dlsym says on such a libxenctrl. */
        if (!strcmp(tinyvmi_dl_symbols[i].name, name) && tinyvmi_dl_symbols[i].addr)
            return libvmi_sys_guard_xen_function(name, tinyvmi_dl_symbols[i].addr);
    }
    set_error("undefined symbol", name);
    return NULL;
}

int tinyvmi_dlclose(void *handle)
{
    if (handle != (void *)tinyvmi_dl_static_handle) {
        set_error("invalid handle", "dlclose");
        return -1;
    }
    return 0;
}

char *tinyvmi_dlerror(void)
{
    if (!error_set)
        return NULL;
    error_set = 0;
    return error_buf;
}
