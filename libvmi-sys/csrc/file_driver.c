/*
 * Compile-time shims for upstream LibVMI's File driver (driver/file/file.c, which alone is
 * compiled with USE_MMAP=1 -Dfile_write=libvmi_sys_upstream_file_write
 * -Dmemory_cache_insert=libvmi_sys_file_map_page; see build/main.rs).
 *
 * Reads: with USE_MMAP upstream maps the image (PROT_READ, MAP_PRIVATE) but still hands
 * out pages through the page cache: per page a g_try_malloc0 (a 4 KiB memset), a copy from
 * the mapping, a hash insert and an LRU eviction, and then vmi_read copies the page again.
 * The driver's only call of memory_cache_insert (file_read_page) is renamed to
 * libvmi_sys_file_map_page below, which returns the page inside the mapping itself: one
 * copy per read, and v2p-cache validation reads cost a bounds check. (The image must not
 * shrink while it is open: reading a page past the new end of the file is a SIGBUS.)
 *
 * Writes: upstream's file_write() always returns VMI_FAILURE. The driver table (filled in
 * driver_interface.c, another compile unit) points at the file_write below instead.
 *
 * Init and destroy (-Dfile_init_vmi=libvmi_sys_upstream_file_init_vmi
 * -Dfile_destroy=libvmi_sys_upstream_file_destroy): when the image cannot be opened,
 * upstream's file_init_vmi() frees the driver instance through file_destroy() but leaves
 * vmi->driver.driver_data pointing at it, and vmi_destroy() then calls the driver's
 * destroy again: a double free (a segfault for every missing image). Inside file.c both
 * names reach upstream's functions; the driver table gets the wrappers below, which clear
 * the pointer once the instance is gone and destroy it only once.
 */
#include "private.h"
#include "driver/file/file_private.h"
#include "driver/memory_cache.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

void *libvmi_sys_file_map_page(vmi_instance_t vmi, addr_t paddr);
status_t libvmi_sys_upstream_file_init_vmi(vmi_instance_t vmi, uint32_t init_flags,
                                           vmi_init_data_t *init_data);
void libvmi_sys_upstream_file_destroy(vmi_instance_t vmi);
status_t file_init_vmi(vmi_instance_t vmi, uint32_t init_flags, vmi_init_data_t *init_data);
void file_destroy(vmi_instance_t vmi);

status_t file_init_vmi(vmi_instance_t vmi, uint32_t init_flags, vmi_init_data_t *init_data)
{
    status_t status = libvmi_sys_upstream_file_init_vmi(vmi, init_flags, init_data);
    if (status != VMI_SUCCESS)
        vmi->driver.driver_data = NULL; /* every failure path has freed the instance */
    return status;
}

void file_destroy(vmi_instance_t vmi)
{
    if (!vmi->driver.driver_data)
        return;
    libvmi_sys_upstream_file_destroy(vmi);
    vmi->driver.driver_data = NULL;
}

void *libvmi_sys_file_map_page(vmi_instance_t vmi, addr_t paddr)
{
    file_instance_t *fi = file_get_instance(vmi);
    if (!fi || !fi->map || paddr > vmi->max_physical_address ||
            vmi->max_physical_address - paddr < vmi->page_size)
        return NULL;
    return (uint8_t *) fi->map + paddr;
}

/*
 * A write goes straight to the image file (opened for writing only for the write, so
 * images that are read-only on disk still open for reading); the driver's mapping (private
 * but never written, so it shares the file's page cache on Linux) shows it at once. LibVMI's write path (vmi_write) never hands a driver a range
 * that crosses a page.
 */
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

    /* Pages the page cache may hold (none while reads come from the mapping) are stale now. */
    for (addr_t page = paddr >> vmi->page_shift; length &&
            page <= (paddr + length - 1) >> vmi->page_shift; page++)
        memory_cache_remove(vmi, page << vmi->page_shift);

    return left ? VMI_FAILURE : VMI_SUCCESS;
}
