/*
 * Compile-time shim for upstream LibVMI (built with -Dfmemopen=libvmi_sys_fmemopen).
 *
 * Upstream's read_config_string() (libvmi/core.c) opens the configuration string with
 * its NUL terminator included (strlen + 1). The config lexer has no rule for a NUL byte,
 * so flex's default rule echoes it to stdout: every VMI_CONFIG_STRING initialisation
 * wrote a stray NUL into the calling program's standard output. Dropping a trailing NUL
 * from read-only memory streams fixes it without patching core.c. fmemopen() has no
 * other caller in LibVMI (checked on each bump: `grep -rn fmemopen libvmi/`).
 */
/* This file is compiled with the rename too: call the real fmemopen here. */
#undef fmemopen
#include <stdio.h>
#include <string.h>

FILE *libvmi_sys_fmemopen(void *buf, size_t size, const char *mode);

FILE *libvmi_sys_fmemopen(void *buf, size_t size, const char *mode)
{
    if (buf && size > 0 && mode && mode[0] == 'r' && ((const char *)buf)[size - 1] == '\0')
        size--;
    return fmemopen(buf, size, mode);
}
