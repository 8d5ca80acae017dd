/*
 * Compile-time shim for upstream LibVMI: libvmi/os/linux/symbols.c alone is compiled with
 * -Dlinux_symbol_to_address=libvmi_sys_upstream_linux_symbol_to_address (see
 * build/main.rs), so the Linux OS layer's symbol lookups (its init's six to eight, every
 * vmi_translate_ksym2v that misses the symbol cache) come here.
 *
 * Upstream opens System.map and fgets it from the top for every lookup, tokenising each
 * row character by character up to 500 bytes: about 20 ms and 170 M instructions for a
 * name near the end of a 94 000-row map (tinyvmi-bench's ksym_cold), and every name that
 * is absent (init tries init_level4_pgt before init_top_pgt) costs a whole pass. Here the
 * file is mapped and searched for the name with memmem; a hit counts only where upstream's
 * row parser would see it: the third field of its row (fields split at runs of
 * isspace(), a leading run counting as a separator), the row no longer than the 499
 * bytes fgets reads at once. The first such row in the file wins and its first field is
 * the address (strtoull base 16), as upstream; a name with whitespace is in no row.
 * Differences, towards finding more: upstream gives up at a row with fewer than two
 * separator runs (an empty line, for one) and finds no name after it; a hit in a row longer
 * than 499 bytes, which upstream would read in pieces, is left to upstream's code (rows
 * before the hit are not checked for length: System.map has no such rows).
 * Without a System.map (JSON profile), or when the file cannot be mapped, upstream's
 * function runs, error messages included.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "os/linux/linux.h"

status_t libvmi_sys_upstream_linux_symbol_to_address(vmi_instance_t vmi, const char *symbol,
                                                     addr_t *unused, addr_t *address);

/* The longest row upstream's fgets(row, 500, f) reads in one piece (without its NUL). */
#define ROW_MAX 499

/* 1: `symbol` found, its address in *address; 0: not in the map; -1: ask upstream. */
static int sysmap_find(const char *map, size_t len, const char *symbol, addr_t *address)
{
    size_t n = strlen(symbol);
    const char *p = map, *end = map + len, *q;

    if (n == 0 || n > ROW_MAX)
        return -1;
    for (q = symbol; *q; q++) {
        if (isspace((unsigned char)*q))
            return 0;
    }
    while ((p = memmem(p, (size_t)(end - p), symbol, n)) != NULL) {
        const char *hit = p, *row = hit;
        int seps = 0;

        p = hit + 1;
        /* The field ends at whitespace or the end of the file... */
        if (hit + n < end && !isspace((unsigned char)hit[n]))
            continue;
        /* ...and starts after whitespace. */
        if (hit == map || !isspace((unsigned char)hit[-1]) || hit[-1] == '\n')
            continue;
        while (row > map && row[-1] != '\n')
            row--;
        /* Count the separator runs before the hit: it must be field 2. */
        for (q = row; q < hit; q++) {
            if (isspace((unsigned char)*q) && (q == row || !isspace((unsigned char)q[-1])))
                seps++;
        }
        if (seps != 2)
            continue;
        q = memchr(hit, '\n', (size_t)(end - hit));
        if ((size_t)((q ? q + 1 : end) - row) > ROW_MAX)
            return -1;
        if (address)
            *address = isspace((unsigned char)*row) ? 0 : (addr_t)strtoull(row, NULL, 16);
        return 1;
    }
    return 0;
}

status_t linux_symbol_to_address(vmi_instance_t vmi, const char *symbol, addr_t *unused,
                                 addr_t *address)
{
    linux_instance_t linux_instance = vmi ? vmi->os_data : NULL;
    struct stat st;
    void *map;
    int fd, found;
    addr_t a = 0;

    if (!linux_instance || !linux_instance->sysmap || !*linux_instance->sysmap || !symbol)
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    fd = open(linux_instance->sysmap, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        close(fd);
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    }
    close(fd);
    found = sysmap_find(map, (size_t)st.st_size, symbol, &a);
    munmap(map, (size_t)st.st_size);
    if (found < 0)
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    if (!found)
        return VMI_FAILURE;
    if (address)
        *address = a + linux_instance->kaslr_offset;
    return VMI_SUCCESS;
}
