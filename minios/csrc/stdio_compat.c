/*
 * TinyVMI: POSIX stdio functions LibVMI uses that the Mini-OS newlib does not link
 * (not on the Mini-OS allowlist): getline. LibVMI's C files are compiled with
 * -Dgetline=tinyvmi_getline. Pure C over fgetc/realloc; also built for the host tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "tinyvmi_compat.h"

ssize_t tinyvmi_getline(char **lineptr, size_t *n, FILE *stream)
{
    size_t used = 0;
    int c;

    if (!lineptr || !n || !stream) {
        errno = EINVAL;
        return -1;
    }
    if (!*lineptr || !*n) {
        char *fresh = realloc(*lineptr, 128);
        if (!fresh)
            return -1;
        *lineptr = fresh;
        *n = 128;
    }
    while ((c = fgetc(stream)) != EOF) {
        if (used + 2 > *n) {
            size_t bigger = *n * 2;
            char *grown = realloc(*lineptr, bigger);
            if (!grown)
                return -1;
            *lineptr = grown;
            *n = bigger;
        }
        (*lineptr)[used++] = (char)c;
        if (c == '\n')
            break;
    }
    if (used == 0)
        return -1;
    (*lineptr)[used] = '\0';
    return (ssize_t)used;
}
