/* TinyVMI: stand-ins for libc functions the Mini-OS libc lacks (see stdio_compat.c and
 * src/iconv.rs). LibVMI's C files see them through -D renames set by the build. */
#ifndef TINYVMI_COMPAT_H
#define TINYVMI_COMPAT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

ssize_t tinyvmi_getline(char **lineptr, size_t *n, FILE *stream);

/* Mini-OS 4.17 links every kernel symbol globally (4.20 keeps only its EXPORT_SYMBOL
 * names), and its kernel defines arch_init(void *) (arch/x86/setup.c), as LibVMI defines
 * arch_init(vmi_instance_t) (arch/arch_interface.c, called from core.c and the OS code):
 * the stub domain's link fails with a multiple definition. Every LibVMI file sees this
 * header first, so the rename is consistent. */
#define arch_init tinyvmi_libvmi_arch_init

#endif
