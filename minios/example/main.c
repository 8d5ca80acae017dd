/*
 * TinyVMI example stub domain: lists the processes of a Linux domain.
 *
 * Everything LibVMI would read from files comes from memory: the config is a string
 * (VMI_CONFIG_STRING), the System.map is linked into the image (.incbin of the file
 * named by TINYVMI_SYSMAP at build time) and registered as a blob, and the hypervisor
 * version LibVMI reads from /sys/hypervisor is registered from xc_version().
 *
 * Command line (the domain config's `extra`): the target's domain id or name, e.g.
 * extra = "5" or extra = "guest". Build: see ../stubdom.mk and ../README.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenctrl.h>

#include <libvmi/libvmi.h>
#include <tinyvmi.h>

#ifndef TINYVMI_SYSMAP
#error "define TINYVMI_SYSMAP as the path of the target kernel's System.map (a string)"
#endif
#ifndef TINYVMI_OFFSETS
/* linux_tasks/linux_mm/linux_pid/linux_name/linux_pgd of the target kernel
 * (LibVMI's tools/linux-offset-finder prints them), as LibVMI config entries. */
#error "define TINYVMI_OFFSETS, e.g. \"linux_tasks = 0x...; linux_name = 0x...; ...\""
#endif

/* The System.map, linked into the image. */
__asm__(".section .rodata\n"
        ".global tinyvmi_example_sysmap\n"
        "tinyvmi_example_sysmap:\n"
        ".incbin \"" TINYVMI_SYSMAP "\"\n"
        ".global tinyvmi_example_sysmap_end\n"
        "tinyvmi_example_sysmap_end:\n"
        ".previous\n");
extern const char tinyvmi_example_sysmap[], tinyvmi_example_sysmap_end[];

#define SYSMAP_PATH "/tinyvmi/System.map"

static int register_hypervisor_version(void)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    int v;

    if (!xch)
        return -1;
    v = xc_version(xch, XENVER_version, NULL);
    xc_interface_close(xch);
    if (v < 0)
        return -1;
    return tinyvmi_register_xen_version((unsigned int)v >> 16, (unsigned int)v & 0xffff);
}

/* Mini-OS's console has no back-pressure: a write to stdout copies what fits into the
 * 2 KiB ring shared with xenconsoled and drops the rest. A process list is a burst of
 * a few KiB, and dom0's xenconsoled may be slow to drain (seen under QEMU/TCG: lines
 * lost in the middle of the list), so the example gives it time after every line. */
static void console_pace(void)
{
    fflush(stdout);
    usleep(20000);
}

static int list_processes(vmi_instance_t vmi)
{
    addr_t list_head = 0, cur, next = 0;
    addr_t tasks, name_off, pid_off;
    int n = 0;

    if (VMI_FAILURE == vmi_get_offset(vmi, "linux_tasks", &tasks) ||
        VMI_FAILURE == vmi_get_offset(vmi, "linux_name", &name_off) ||
        VMI_FAILURE == vmi_get_offset(vmi, "linux_pid", &pid_off)) {
        printf("tinyvmi: the config lacks linux_tasks/linux_name/linux_pid\n");
        return -1;
    }
    if (VMI_FAILURE == vmi_translate_ksym2v(vmi, "init_task", &list_head)) {
        printf("tinyvmi: init_task not in the System.map\n");
        return -1;
    }
    list_head += tasks;
    cur = list_head;
    do {
        addr_t task = cur - tasks;
        vmi_pid_t pid = 0;
        char *name;

        if (VMI_FAILURE == vmi_read_32_va(vmi, task + pid_off, 0, (uint32_t *)&pid))
            return -1;
        name = vmi_read_str_va(vmi, task + name_off, 0);
        printf("[%5d] %s (struct addr:%" PRIx64 ")\n", pid, name ? name : "?", task);
        console_pace();
        free(name);
        n++;
        if (VMI_FAILURE == vmi_read_addr_va(vmi, cur, 0, &next))
            return -1;
        cur = next;
    } while (cur != list_head && n < 100000);
    return n;
}

int main(int argc, char **argv)
{
    const char *target = argc > 1 ? argv[argc - 1] : NULL;
    const char *config = "{ ostype = \"Linux\"; sysmap = \"" SYSMAP_PATH "\"; " TINYVMI_OFFSETS " }";
    vmi_init_error_t error = VMI_INIT_ERROR_NONE;
    vmi_instance_t vmi = NULL;
    uint64_t domid = 0;
    char *end = NULL;
    int n;

    if (!target) {
        printf("tinyvmi: give the target domain id or name as the command line (extra=)\n");
        return 1;
    }
    if (tinyvmi_blob_register(SYSMAP_PATH, tinyvmi_example_sysmap,
                              (size_t)(tinyvmi_example_sysmap_end - tinyvmi_example_sysmap)) ||
        register_hypervisor_version()) {
        printf("tinyvmi: registering the in-memory files failed\n");
        return 1;
    }

    domid = strtoull(target, &end, 0);
    if (end && *end == '\0')
        (void)vmi_init_complete(&vmi, &domid, VMI_INIT_DOMAINID, NULL, VMI_CONFIG_STRING,
                                (void *)config, &error);
    else
        (void)vmi_init_complete(&vmi, (void *)target, VMI_INIT_DOMAINNAME, NULL,
                                VMI_CONFIG_STRING, (void *)config, &error);
    if (!vmi) {
        printf("tinyvmi: vmi_init_complete(%s) failed (error %d)\n", target, (int)error);
        return 1;
    }

    if (VMI_FAILURE == vmi_pause_vm(vmi))
        printf("tinyvmi: could not pause the domain; listing it live\n");
    n = list_processes(vmi);
    vmi_resume_vm(vmi);
    vmi_destroy(vmi);
    printf("tinyvmi: %d processes\n", n);
    return n < 0;
}
