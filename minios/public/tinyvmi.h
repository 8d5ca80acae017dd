/*
 * TinyVMI: what a Mini-OS stub domain's main() calls besides LibVMI's own API.
 *
 * A stub domain has no filesystem. LibVMI opens its config file, System.map and
 * the /sys/hypervisor version files by path; in libtinyvmi.a those fopen() calls go
 * to tinyvmi_fopen(), which serves blobs registered here (in memory, read-only)
 * and falls back to the real fopen() for any other path.
 *
 * Not thread-safe by contract (Mini-OS is single-threaded); the registry uses a spin
 * flag only so that concurrent host tests stay well defined.
 */
#ifndef TINYVMI_H
#define TINYVMI_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Registers `len` bytes at `data` under the path `name` (replacing a blob of the same
 * name). The name is copied; the data is NOT: it must stay valid and unchanged until
 * the blob is unregistered (a static array, a string literal, or memory never freed).
 * Returns 0, or -1 if an argument is NULL, `len` is 0 or memory is exhausted.
 */
int tinyvmi_blob_register(const char *name, const void *data, size_t len);

/* Forgets the blob `name`. Returns 0 if there was one, -1 otherwise. */
int tinyvmi_blob_unregister(const char *name);

/*
 * Registers /sys/hypervisor/type ("xen") and /sys/hypervisor/version/{major,minor},
 * the files LibVMI's Xen driver reads the hypervisor version from (get them with
 * xc_version(xch, XENVER_version, NULL): major = v >> 16, minor = v & 0xffff).
 * Returns 0, or -1 if memory is exhausted.
 */
int tinyvmi_register_xen_version(unsigned int major, unsigned int minor);

/* fopen() that serves registered blobs (read modes only; write modes fall through). */
FILE *tinyvmi_fopen(const char *path, const char *mode);

#ifdef __cplusplus
}
#endif

#endif
