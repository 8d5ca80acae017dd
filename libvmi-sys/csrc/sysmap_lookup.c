/*
 * Compile-time shim for upstream LibVMI: libvmi/os/linux/symbols.c alone is compiled with
 * -Dlinux_symbol_to_address=libvmi_sys_upstream_linux_symbol_to_address and
 * -Dlinux_system_map_address_to_symbol=libvmi_sys_upstream_linux_system_map_address_to_symbol
 * (see build/main.rs), so the Linux OS layer's symbol lookups (its init's six to eight, every
 * vmi_translate_ksym2v that misses the symbol cache) and reverse lookups (every
 * vmi_translate_v2ksym that misses the cache) come here.
 *
 * Upstream opens System.map and fgets it from the top for every lookup, tokenising each
 * row character by character up to 500 bytes: about 20 ms and 170 M instructions for a
 * name near the end of a 94 000-row map (tinyvmi-bench's ksym_cold), and every name that
 * is absent (init tries init_level4_pgt before init_top_pgt) costs a whole pass. Here the
 * file is read in 32 KiB blocks of whole rows and each block searched for the name
 * (Boyer-Moore-Horspool: Xen 4.17's stub-domain newlib has no memmem; not mapped: a
 * mapping would count the file in the process's resident set and turn a file truncated
 * meanwhile into SIGBUS). A hit counts only where upstream's row parser would see it: the
 * third field of its row (fields split at runs of isspace(), a leading run counting as a
 * separator), the row no longer than the 499 bytes fgets reads at once. The first such
 * row in the file wins and its first field is the address (strtoull base 16), as
 * upstream; a name with whitespace is in no row.
 * Differences, towards finding more: upstream gives up at a row with fewer than two
 * separator runs (an empty line, for one) and finds no name after it; a hit in a row longer
 * than 499 bytes, which upstream would read in pieces, is left to upstream's code (rows
 * before the hit are not checked for length: System.map has no such rows).
 * Without a System.map (JSON profile), when the file cannot be opened or read, or has a row
 * longer than a block, upstream's function runs, error messages included.
 *
 * Reverse lookups search the same way for the address as upstream formats it (%PRIx64 of
 * the address less the KASLR offset, so no leading zeros) as the first field of a row:
 * upstream's parser turns every whitespace character of the row into a NUL, compares the
 * first field and answers the text after the second NUL up to the next one (the third
 * field of a row with single separators; a row with two separators in a row answers what
 * follows them, so "a  T x" answers "T", as upstream's; of a row longer than 499 bytes,
 * what its first 499 hold, as upstream's first fgets). Difference, towards safety: a row
 * with fewer than two separators in those bytes answers nothing, where upstream reads on
 * past the row into what earlier rows left in its buffer, or past the buffer's end.
 * Contexts other than the kernel's go to upstream's code (its error message).
 *
 * The Mini-OS archive compiles this file with LIBVMI_SYS_SYSMAP_BLOBS (root build.rs): a
 * stub domain has no files, and the System.map is a registered blob (src/blobs.rs), searched
 * in place.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef LIBVMI_SYS_SYSMAP_BLOBS
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif

#include "private.h"
#include "os/linux/linux.h"

status_t libvmi_sys_upstream_linux_symbol_to_address(vmi_instance_t vmi, const char *symbol,
                                                     addr_t *unused, addr_t *address);
char *libvmi_sys_upstream_linux_system_map_address_to_symbol(vmi_instance_t vmi,
                                                             addr_t address,
                                                             const access_context_t *ctx);

/* The longest row upstream's fgets(row, 500, f) reads in one piece (without its NUL). */
#define ROW_MAX 499

/* A name to search for, prepared once per lookup: its length and Horspool table, or
 * `in_no_row` for a name with whitespace (no row's field can hold it). */
struct needle {
    const char *s;
    size_t n;
    int in_no_row;
    uint16_t skip[256];
};

/* One lookup: the needle, which field it must be, and the answer. */
struct query {
    struct needle nd;
    /* 2: a name, answered with its row's address; 0: an address, answered with a name. */
    int field;
    addr_t address;
    /* field 0's answer, from malloc (the caller frees it, as upstream's strdup). */
    char *symbol;
};

/* A separator of upstream's row parser for reverse lookups: it compares and copies
 * NUL-terminated pieces of a row whose whitespace it overwrote with NULs. */
static int is_sep(unsigned char c)
{
    return c == 0 || isspace(c);
}

/* 0: `nd` is ready; -1: a name upstream's code has to answer (empty or over-long). */
static int needle_init(struct needle *nd, const char *symbol)
{
    size_t i;

    nd->s = symbol;
    nd->n = strlen(symbol);
    nd->in_no_row = 0;
    if (nd->n == 0 || nd->n > ROW_MAX)
        return -1;
    for (i = 0; i < nd->n; i++)
        nd->in_no_row |= isspace((unsigned char)symbol[i]) != 0;
    for (i = 0; i < 256; i++)
        nd->skip[i] = (uint16_t)nd->n;
    for (i = 0; i + 1 < nd->n; i++)
        nd->skip[(unsigned char)symbol[i]] = (uint16_t)(nd->n - 1 - i);
    return 0;
}

/* The first bytes at or after `p` (before `end`) equal to the needle, or NULL. */
static const char *find_bytes(const char *p, const char *end, const struct needle *nd)
{
    size_t n = nd->n;
    unsigned char last = (unsigned char)nd->s[n - 1];

    while ((size_t)(end - p) >= n) {
        unsigned char c = (unsigned char)p[n - 1];
        if (c == last && memcmp(p, nd->s, n - 1) == 0)
            return p;
        p += nd->skip[c];
    }
    return NULL;
}

/* Field 0 of the row at `hit` (found by find_bytes): 1 if upstream's parser would match it,
 * with its answer in q->symbol (NULL: none); 0 if not. */
static int row_symbol(const char *map, const char *end, const char *hit, struct query *q)
{
    size_t n = q->nd.n, len, i, s, e;
    const char *nl;

    if ((hit > map && hit[-1] != '\n') || (hit + n < end && !is_sep((unsigned char)hit[n])))
        return 0;
    /* What upstream's fgets holds of the row: at most ROW_MAX bytes, then its NUL. */
    len = (size_t)(end - hit) < ROW_MAX ? (size_t)(end - hit) : ROW_MAX;
    nl = memchr(hit, '\n', len);
    if (nl)
        len = (size_t)(nl + 1 - hit);
    /* The answer starts after the second separator; without one in the row upstream would
     * read it from beyond the row (what earlier rows left in its buffer, or past the
     * buffer's end): no answer. */
    for (i = n + 1; i < len && !is_sep((unsigned char)hit[i]); i++)
        ;
    q->symbol = NULL;
    if (i >= len)
        return 1;
    for (s = e = i + 1; e < len && !is_sep((unsigned char)hit[e]); e++)
        ;
    q->symbol = malloc(e - s + 1);
    if (q->symbol) {
        memcpy(q->symbol, hit + s, e - s);
        q->symbol[e - s] = '\0';
    }
    return 1;
}

/* 1: the needle found in rows [map, map + len) where upstream's parser would match it, the
 * answer in *q; 0: not there; -1: ask upstream. */
static int sysmap_find(const char *map, size_t len, struct query *qu)
{
    const struct needle *nd = &qu->nd;
    size_t n = nd->n;
    const char *p = map, *end = map + len, *q;

    if (nd->in_no_row)
        return 0;
    while ((p = find_bytes(p, end, nd)) != NULL) {
        const char *hit = p, *row = hit;
        int seps = 0;

        p = hit + 1;
        if (qu->field == 0) {
            if (row_symbol(map, end, hit, qu))
                return 1;
            continue;
        }
        /* The field ends at whitespace or the end of the file... */
        if (hit + n < end && !isspace((unsigned char)hit[n]))
            continue;
        /* ...and starts after whitespace. */
        if (hit == map || !isspace((unsigned char)hit[-1]) || hit[-1] == '\n')
            continue;
        /* The row's start, at most ROW_MAX bytes back: a longer row is upstream's. */
        while (row > map && row[-1] != '\n' && hit - row < ROW_MAX)
            row--;
        if (row > map && row[-1] != '\n')
            return -1;
        /* Count the separator runs before the hit: it must be field 2. */
        for (q = row; q < hit; q++) {
            if (isspace((unsigned char)*q) && (q == row || !isspace((unsigned char)q[-1])))
                seps++;
        }
        if (seps != 2)
            continue;
        /* The row's end, within ROW_MAX bytes of its start. */
        q = memchr(hit, '\n', (size_t)(end - hit) < ROW_MAX ? (size_t)(end - hit) : ROW_MAX);
        if ((size_t)((q ? q + 1 : end) - row) > ROW_MAX)
            return -1;
        qu->address = isspace((unsigned char)*row) ? 0 : (addr_t)strtoull(row, NULL, 16);
        return 1;
    }
    return 0;
}

#ifdef LIBVMI_SYS_SYSMAP_BLOBS
const void *tinyvmi_blob_get(const char *name, size_t *len);

/* sysmap_find over the System.map at `path`: here a registered blob, searched in place. */
static int sysmap_search(const char *path, struct query *q)
{
    size_t len = 0;
    const char *map = tinyvmi_blob_get(path, &len);

    return map ? sysmap_find(map, len, q) : -1;
}
#else
/* sysmap_find over the System.map at `path`, a block of whole rows at a time. The block
 * is on the stack (no allocation per lookup), aligned so that the copies of a block's
 * tail cost the same in every process (glibc's memmove varies with alignment). */
static int sysmap_search(const char *path, struct query *q)
{
    enum { BLOCK = 32 * 1024 };
    _Alignas(64) char buf[BLOCK];
    size_t have = 0, rows;
    int found = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t got = read(fd, buf + have, BLOCK - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            found = -1;
            break;
        }
        have += (size_t)got;
        /* Whole rows: up to the last newline, or everything at the end of the file. */
        rows = have;
        if (got > 0) {
            while (rows > 0 && buf[rows - 1] != '\n')
                rows--;
            if (rows == 0) {
                if (have == BLOCK) {
                    found = -1; /* a row longer than a block */
                    break;
                }
                continue;
            }
        }
        if (rows > 0 && (found = sysmap_find(buf, rows, q)) != 0)
            break;
        if (got == 0)
            break;
        memmove(buf, buf + rows, have - rows);
        have -= rows;
    }
    close(fd);
    return found;
}
#endif

status_t linux_symbol_to_address(vmi_instance_t vmi, const char *symbol, addr_t *unused,
                                 addr_t *address)
{
    linux_instance_t linux_instance = vmi ? vmi->os_data : NULL;
    struct query q = { .field = 2 };
    int found;

    if (!linux_instance || !linux_instance->sysmap || !*linux_instance->sysmap || !symbol ||
        needle_init(&q.nd, symbol) < 0)
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    found = sysmap_search(linux_instance->sysmap, &q);
    if (found < 0)
        return libvmi_sys_upstream_linux_symbol_to_address(vmi, symbol, unused, address);
    if (!found)
        return VMI_FAILURE;
    if (address)
        *address = q.address + linux_instance->kaslr_offset;
    return VMI_SUCCESS;
}

char *linux_system_map_address_to_symbol(vmi_instance_t vmi, addr_t address,
                                         const access_context_t *ctx)
{
    linux_instance_t linux_instance = vmi ? vmi->os_data : NULL;
    struct query q = { .field = 0 };
    char hex[17];
    int kernel, found;

    kernel = ctx && ((ctx->translate_mechanism == VMI_TM_PROCESS_PID && ctx->pid == 0) ||
                     (ctx->translate_mechanism == VMI_TM_PROCESS_DTB && ctx->dtb == vmi->kpgd));
    if (!linux_instance || !linux_instance->sysmap || !*linux_instance->sysmap || !kernel)
        return libvmi_sys_upstream_linux_system_map_address_to_symbol(vmi, address, ctx);
    snprintf(hex, sizeof(hex), "%" PRIx64, (uint64_t)(address - linux_instance->kaslr_offset));
    if (needle_init(&q.nd, hex) < 0)
        return libvmi_sys_upstream_linux_system_map_address_to_symbol(vmi, address, ctx);
    found = sysmap_search(linux_instance->sysmap, &q);
    if (found < 0)
        return libvmi_sys_upstream_linux_system_map_address_to_symbol(vmi, address, ctx);
    return q.symbol;
}
