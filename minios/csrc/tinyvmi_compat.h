/* TinyVMI: stand-ins for libc functions the Mini-OS libc lacks (see stdio_compat.c and
 * src/iconv.rs). LibVMI's C files see them through -D renames set by the build. */
#ifndef TINYVMI_COMPAT_H
#define TINYVMI_COMPAT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

ssize_t tinyvmi_getline(char **lineptr, size_t *n, FILE *stream);

#endif
