/*
 * TinyVMI compatibility header: <fnmatch.h>, which LibVMI's core.c and
 * driver/xen/xen_private.h include (without calling fnmatch). Debian's newlib has it;
 * the newlib 1.16.0 of Xen's stubdom cross root does not install it, and its libc.a
 * has no fnmatch: a call would fail the link (and `cargo xtask minios-audit`).
 */
#ifndef TINYVMI_COMPAT_FNMATCH_H
#define TINYVMI_COMPAT_FNMATCH_H

#define FNM_NOMATCH 1

#define FNM_NOESCAPE 0x01
#define FNM_PATHNAME 0x02
#define FNM_PERIOD 0x04

int fnmatch(const char *pattern, const char *string, int flags);

#endif
