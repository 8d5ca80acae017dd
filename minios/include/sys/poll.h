/*
 * TinyVMI compatibility header (Mini-OS build without a Xen tree): Mini-OS's
 * poll() interface (include/posix/poll.h), which Debian's newlib lacks. LibVMI's
 * Xen event code polls the event channel and xenstore descriptors with it.
 */
#ifndef TINYVMI_COMPAT_SYS_POLL_H
#define TINYVMI_COMPAT_SYS_POLL_H

#define POLLIN 0x001
#define POLLPRI 0x002
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020

typedef unsigned long nfds_t;

struct pollfd {
    int fd;
    short events;
    short revents;
};

int poll(struct pollfd *fds, nfds_t nfds, int timeout);

#endif
