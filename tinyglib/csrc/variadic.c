/* The two C-variadic entry points of tinyglib (stable Rust cannot define C-variadic
 * functions). Freestanding: only the compiler's <stdarg.h>/<stddef.h>; the few libc
 * functions used are declared here and are on the Mini-OS allowlist. Results come
 * from malloc, so free() and g_free() both release them. */
#include <stdarg.h>
#include <stddef.h>

extern void *malloc(size_t size);
extern void abort(void);
extern size_t strlen(const char *s);
extern void *memcpy(void *dst, const void *src, size_t n);
extern int vsnprintf(char *str, size_t size, const char *fmt, va_list ap);

char *tinyglib_g_strdup_printf(const char *format, ...);
char *tinyglib_g_strconcat(const char *string1, ...);

/* Like glibc vasprintf: measure, allocate exactly, format again. NULL on a format
 * error (as GLib returns when vasprintf fails); abort when out of memory (g_malloc). */
char *tinyglib_g_strdup_printf(const char *format, ...)
{
    va_list ap, again;
    int len;
    char *buf;

    if (format == NULL)
        return NULL;
    va_start(ap, format);
    va_copy(again, ap);
    len = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    if (len < 0) {
        va_end(again);
        return NULL;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL)
        abort();
    vsnprintf(buf, (size_t)len + 1, format, again);
    va_end(again);
    return buf;
}

/* Concatenates up to the first NULL argument; a NULL first argument gives NULL. */
char *tinyglib_g_strconcat(const char *string1, ...)
{
    va_list ap;
    size_t total, len;
    const char *s;
    char *buf, *out;

    if (string1 == NULL)
        return NULL;
    total = strlen(string1) + 1;
    va_start(ap, string1);
    while ((s = va_arg(ap, const char *)) != NULL) {
        len = strlen(s);
        if (total + len < total)
            abort();
        total += len;
    }
    va_end(ap);

    buf = malloc(total);
    if (buf == NULL)
        abort();
    len = strlen(string1);
    memcpy(buf, string1, len);
    out = buf + len;
    va_start(ap, string1);
    while ((s = va_arg(ap, const char *)) != NULL) {
        len = strlen(s);
        memcpy(out, s, len);
        out += len;
    }
    va_end(ap);
    *out = '\0';
    return buf;
}
