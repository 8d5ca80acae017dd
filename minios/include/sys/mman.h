/*
 * TinyVMI compatibility header (Mini-OS build without a Xen tree): the part of
 * Mini-OS's include/posix/sys/mman.h that LibVMI uses (PROT_*, MAP_*, munmap) and
 * Debian's newlib lacks. As in Mini-OS, mmap is mmap64 (Mini-OS exports only that).
 */
#ifndef TINYVMI_COMPAT_SYS_MMAN_H
#define TINYVMI_COMPAT_SYS_MMAN_H

#include <sys/types.h>

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_ANON 0x20
#define MAP_ANONYMOUS MAP_ANON

#define MAP_FAILED ((void *)-1)

#define mmap mmap64
void *mmap64(void *start, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *start, size_t length);

#endif
