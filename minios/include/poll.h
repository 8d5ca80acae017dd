/* TinyVMI compatibility header: see sys/poll.h. */
#include <sys/poll.h>
