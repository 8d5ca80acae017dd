/* TinyVMI's static stand-in for the dynamic loader (see dl_static.c). */
#ifndef TINYVMI_DL_H
#define TINYVMI_DL_H

#include <stddef.h>

/* One name the Xen driver looks up, and the statically linked function it gets. */
struct tinyvmi_dl_symbol {
    const char *name;
    void *addr;
};

/* Generated at build time (minios/build/resolver.rs) from the driver's dlsym() calls. */
extern const struct tinyvmi_dl_symbol tinyvmi_dl_symbols[];
extern const size_t tinyvmi_dl_symbols_len;

void *tinyvmi_dlopen(const char *file, int mode);
void *tinyvmi_dlsym(void *handle, const char *name);
int tinyvmi_dlclose(void *handle);
char *tinyvmi_dlerror(void);

#endif
