/*
 * tvmi-marker: the guest's known-memory process for TinyVMI's guest images.
 *
 * Built on the host with `gcc -static -O2` and copied into the initramfs.
 *
 *   tvmi-marker <argv-marker>      (environment: TVMI_MARKER_ENV=<env-marker>)
 *       Keeps known strings in its data segment, heap, stack, argv and environment,
 *       starts two threads named "tvmi-worker-a" and "tvmi-worker-b", then writes
 *       one line per string to REPORT_PATH:
 *           marker kind=<data|heap|stack|argv|env> pid=<pid> vaddr=0x<va> paddr=0x<pa> text=<string>
 *       followed by "end". paddr comes from /proc/self/pagemap (root sees PFNs).
 *       The report appears atomically (written to a temporary file, then renamed).
 *       It then sleeps forever with every page locked in memory.
 *
 *   <any name> --idle
 *       Sleeps forever; used under distinct names (symlinks) as recognisable idle
 *       processes. The kernel names a process after the file it executed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define REPORT_PATH "/run/tvmi-marker.txt"

/* Data segment: an initialised, writable global (written at run time, so the page is
 * the process's own copy, not the page cache's). */
char marker_data[64] = "TINYVMI-MARKER-DATA-7d1f3a90";
static const char HEAP_TEXT[] = "TINYVMI-MARKER-HEAP-4b82e6c1";
static const char STACK_TEXT[] = "TINYVMI-MARKER-STACK-a05c9d37";

static pthread_barrier_t started;

static void die(const char *what)
{
    fprintf(stderr, "tvmi-marker: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void sleep_forever(void)
{
    for (;;)
        pause();
}

static void *worker(void *name)
{
    if (prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0) != 0)
        die("prctl(PR_SET_NAME)");
    pthread_barrier_wait(&started);
    sleep_forever();
    return NULL;
}

/* Guest-physical address of a virtual address of this process, from /proc/self/pagemap. */
static uint64_t phys_of(int pagemap, const void *p)
{
    uintptr_t va = (uintptr_t)p;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t entry;
    if (pread(pagemap, &entry, sizeof entry, (off_t)(va / page) * sizeof entry) != sizeof entry)
        die("pread(/proc/self/pagemap)");
    uint64_t pfn = entry & ((1ULL << 55) - 1);
    if (!(entry >> 63) || pfn == 0) {
        errno = EFAULT;
        die("page not present or PFN hidden (not root?)");
    }
    return pfn * (uint64_t)page + (va % page);
}

static void report(FILE *out, int pagemap, const char *kind, const char *text)
{
    fprintf(out, "marker kind=%s pid=%d vaddr=0x%lx paddr=0x%llx text=%s\n", kind, (int)getpid(),
            (unsigned long)(uintptr_t)text, (unsigned long long)phys_of(pagemap, text), text);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--idle") == 0)
        sleep_forever();

    const char *env = getenv("TVMI_MARKER_ENV");
    if (argc != 2 || !env) {
        fprintf(stderr, "usage: TVMI_MARKER_ENV=<text> tvmi-marker <text> | tvmi-marker --idle\n");
        return 2;
    }

    /* Keep this process's pages where they are: no transparent huge page collapsing. */
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

    volatile char *touch = marker_data;
    touch[0] = touch[0];

    char *heap = malloc(4096);
    if (!heap)
        die("malloc");
    memcpy(heap, HEAP_TEXT, sizeof HEAP_TEXT);

    char stack[64];
    memcpy(stack, STACK_TEXT, sizeof STACK_TEXT);
    __asm__ volatile("" : : "r"(stack) : "memory");

    pthread_t threads[2];
    pthread_barrier_init(&started, NULL, 3);
    if (pthread_create(&threads[0], NULL, worker, "tvmi-worker-a") ||
        pthread_create(&threads[1], NULL, worker, "tvmi-worker-b"))
        die("pthread_create");
    pthread_barrier_wait(&started);

    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        die("mlockall");

    int pagemap = open("/proc/self/pagemap", O_RDONLY);
    if (pagemap < 0)
        die("open(/proc/self/pagemap)");
    FILE *out = fopen(REPORT_PATH ".tmp", "w");
    if (!out)
        die("fopen(" REPORT_PATH ".tmp)");
    report(out, pagemap, "data", marker_data);
    report(out, pagemap, "heap", heap);
    report(out, pagemap, "stack", stack);
    report(out, pagemap, "argv", argv[1]);
    report(out, pagemap, "env", env);
    fprintf(out, "end\n");
    if (fclose(out) != 0)
        die("fclose");
    close(pagemap);
    if (rename(REPORT_PATH ".tmp", REPORT_PATH) != 0)
        die("rename");

    /* Sleep with the stack frame (and so the stack marker) alive. */
    for (;;) {
        pause();
        __asm__ volatile("" : : "r"(stack) : "memory");
    }
}
