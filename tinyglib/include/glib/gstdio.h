/* tinyglib: <glib/gstdio.h> stub. LibVMI includes it (driver/kvm/kvm_legacy.c) but uses
 * none of its functions. */
#ifndef TINYGLIB_GSTDIO_H
#define TINYGLIB_GSTDIO_H
#include <glib.h>
#endif
