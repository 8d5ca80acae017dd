/*
 * Compile-time shim for upstream LibVMI: writes in File mode.
 *
 * Upstream's file driver leaves file_write() unimplemented (it always returns
 * VMI_FAILURE), so nothing could write to a memory image. driver/file/file.c is
 * compiled with -Dfile_write=libvmi_sys_upstream_file_write; the driver table (set up
 * in driver_interface.c, a separate compile unit) then points at this file_write.
 *
 * A write goes straight to the image file (opened for writing only for the write,
 * so images that are read-only on disk still open for reading) and drops the pages
 * it touched from LibVMI's page cache, so the next read sees it. LibVMI's write path
 * (vmi_write) never hands a driver a range that crosses a page.
 */
#include "private.h"
#include "driver/file/file_private.h"
#include "driver/memory_cache.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

status_t file_write(vmi_instance_t vmi, addr_t paddr, void *buf, uint32_t length)
{
    file_instance_t *fi = file_get_instance(vmi);
    if (!fi || !fi->filename || !buf || paddr > vmi->max_physical_address ||
            length > vmi->max_physical_address - paddr)
        return VMI_FAILURE;

    int fd = open(fi->filename, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        errprint("File mode: cannot open '%s' for writing: %s\n", fi->filename, strerror(errno));
        return VMI_FAILURE;
    }
    const char *p = buf;
    uint32_t left = length;
    off_t at = (off_t) paddr;
    while (left) {
        ssize_t n = pwrite(fd, p, left, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        at += n;
        left -= (uint32_t) n;
    }
    if (close(fd) != 0 && !left)
        left = 1;

    /* The cached copies of the pages written are stale now (even after a partial write). */
    for (addr_t page = paddr >> vmi->page_shift; length &&
            page <= (paddr + length - 1) >> vmi->page_shift; page++)
        memory_cache_remove(vmi, page << vmi->page_shift);

    return left ? VMI_FAILURE : VMI_SUCCESS;
}
