/*
 * TinyVMI compatibility header (Mini-OS build without a Xen tree): the <dlfcn.h>
 * Mini-OS's include/posix provides and Debian's newlib lacks. LibVMI's Xen wrappers
 * include it; the build renames their calls to tinyvmi_dl* (minios/csrc/dl_static.c),
 * so these declarations become the resolver's.
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
