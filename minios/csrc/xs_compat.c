/*
 * TinyVMI: the libxenstore entry points LibVMI's Xen driver looks up that Mini-OS's
 * own xenstore client (lib/xs.c) lacks, built on the subset it has
 * (xs_daemon_open, xs_read, xs_fileno, ...). Compiled into the Mini-OS archive only;
 * on a host, libxenstore provides the real ones.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <xenstore.h>

/* Mini-OS has one kind of connection (the xenbus device), whatever the flags. */
struct xs_handle *xs_open(unsigned long flags)
{
    (void)flags;
    return xs_daemon_open();
}

/*
 * Mini-OS does not export xs_daemon_close, but a handle is a file descriptor of type
 * FTYPE_XENBUS, and Mini-OS's close() on such a descriptor runs xs_daemon_close.
 */
void xs_close(struct xs_handle *xsh)
{
    if (xsh)
        close(xs_fileno(xsh));
}

/*
 * libxenstore asks xenstored (XS_IS_DOMAIN_INTRODUCED), which Mini-OS's client cannot
 * send. The approximation: a domain counts as introduced while its home
 * /local/domain/<domid> exists. The toolstack creates that node before it introduces
 * the domain to xenstored and removes it when the domain is destroyed, so the answer
 * matches what LibVMI's domain-watch events need (new domain appeared / domain gone);
 * it differs only in the short windows around creation and destruction. Reading the
 * node needs read permission on it, which a privileged stub domain has (README.md).
 */
bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
    char path[32];
    unsigned int len = 0;
    char *value;

    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    value = xs_read(h, XBT_NULL, path, &len);
    if (!value)
        return false;
    free(value);
    return true;
}
