/*
 * TinyVMI compatibility header: <dlfcn.h>, which LibVMI's Xen wrappers include. Neither
 * Mini-OS (xen-RELEASE-4.20.0: dlopen/dlsym/dlclose/dlerror are stubs in lib/sys.c, no
 * header), nor its newlib 1.16.0, nor Debian's newlib has it, so this one is used with
 * and without a Xen tree. The build renames the wrappers' calls to tinyvmi_dl*
 * (minios/csrc/dl_static.c), so these declarations become the resolver's.
 */
#ifndef TINYVMI_COMPAT_DLFCN_H
#define TINYVMI_COMPAT_DLFCN_H

#define RTLD_LAZY 0x1
#define RTLD_NOW 0x2
#define RTLD_GLOBAL 0x100
#define RTLD_LOCAL 0

void *dlopen(const char *file, int mode);
void *dlsym(void *handle, const char *name);
int dlclose(void *handle);
char *dlerror(void);

#endif
