/*
 * Forced into driver/file/file.c (-include, before its own #include <sys/mman.h>, which
 * the include guard then skips): upstream maps the image with MAP_POPULATE, which reads
 * and maps the whole file at init (a 16 GiB image: 16 GiB read before the first page is
 * used, all of it counted in the process's RSS). Mapped lazily, a page costs one minor
 * fault the first time it is read. file.c's own `#ifndef MAP_POPULATE` fallback shows the
 * flag is optional there.
 */
#include <sys/mman.h>
#undef MAP_POPULATE
#define MAP_POPULATE 0
