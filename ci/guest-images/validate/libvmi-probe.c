/*
 * libvmi-probe: read a guest image with upstream LibVMI (file mode) and print what it sees,
 * one fact per line, for ci/guest-images/validate/check to compare with the ground truth.
 *
 *   libvmi-probe <image.raw> <config string "{ ... }"> [threads:<off>] [sym:<name>]...
 *                [read:<pid>:<vaddr>:<len>]...
 *   (threads:<off> = offset of task_struct.thread_group: also list every process's threads)
 *
 * Output:
 *   init <seconds>                      time vmi_init_complete took
 *   kpgd 0x<pa> / kaslr 0x<offset>      what LibVMI determined
 *   proc <pid> <name>                   walking init_task.tasks (like vmi-process-list)
 *   thread <pid> <tid> <name>           walking each of them's thread_group (leader included)
 *   module <name>                       walking `modules` (like vmi-module-list)
 *   sym <name> 0x<va>                   vmi_translate_ksym2v
 *   read <pid> 0x<va> 0x<pa> <text>     vmi_translate_uv2p and vmi_read_str_va in that process
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvmi/libvmi.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s <image.raw> <config string> [sym:NAME]... [read:PID:VADDR:LEN]...\n", argv[0]);
        return 2;
    }
    vmi_instance_t vmi = NULL;
    vmi_init_error_t err;
    double t0 = now();
    if (VMI_FAILURE == vmi_init_complete(&vmi, argv[1], VMI_INIT_DOMAINNAME, NULL,
                                         VMI_CONFIG_STRING, argv[2], &err)) {
        printf("error init %d\n", (int)err);
        return 1;
    }
    printf("init %.3f\n", now() - t0);

    addr_t kpgd = 0, kaslr = 0, tasks = 0, name = 0, pid = 0;
    vmi_get_offset(vmi, "kpgd", &kpgd);
    vmi_get_offset(vmi, "linux_kaslr", &kaslr);
    printf("kpgd 0x%" PRIx64 "\nkaslr 0x%" PRIx64 "\n", kpgd, kaslr);
    if (VMI_FAILURE == vmi_get_offset(vmi, "linux_tasks", &tasks) ||
        VMI_FAILURE == vmi_get_offset(vmi, "linux_name", &name) ||
        VMI_FAILURE == vmi_get_offset(vmi, "linux_pid", &pid)) {
        printf("error offsets\n");
        return 1;
    }

    addr_t init_task = 0;
    if (VMI_FAILURE == vmi_translate_ksym2v(vmi, "init_task", &init_task)) {
        printf("error init_task\n");
        return 1;
    }
    addr_t thread_group = 0;
    for (int i = 3; i < argc; i++)
        if (strncmp(argv[i], "threads:", 8) == 0)
            thread_group = strtoull(argv[i] + 8, NULL, 0);

    addr_t head = init_task + tasks, cur = head;
    int n = 0;
    do {
        addr_t task = cur - tasks;
        vmi_pid_t p = 0;
        vmi_read_32_va(vmi, task + pid, 0, (uint32_t *)&p);
        char *comm = vmi_read_str_va(vmi, task + name, 0);
        printf("proc %d %s\n", p, comm ? comm : "?");
        free(comm);
        if (thread_group && p != 0) {
            addr_t t = task, tg = 0;
            int m = 0;
            do {
                vmi_pid_t tid = 0;
                vmi_read_32_va(vmi, t + pid, 0, (uint32_t *)&tid);
                char *tcomm = vmi_read_str_va(vmi, t + name, 0);
                printf("thread %d %d %s\n", p, tid, tcomm ? tcomm : "?");
                free(tcomm);
                if (VMI_FAILURE == vmi_read_addr_va(vmi, t + thread_group, 0, &tg) || ++m > 10000) {
                    printf("error thread walk\n");
                    return 1;
                }
                t = tg - thread_group;
            } while (t != task);
        }
        if (VMI_FAILURE == vmi_read_addr_va(vmi, cur, 0, &cur) || ++n > 10000) {
            printf("error tasks walk\n");
            return 1;
        }
    } while (cur != head);

    addr_t modules = 0, next = 0;
    if (VMI_FAILURE == vmi_translate_ksym2v(vmi, "modules", &modules) ||
        VMI_FAILURE == vmi_read_addr_va(vmi, modules, 0, &next)) {
        printf("error modules\n");
        return 1;
    }
    for (n = 0; next != modules && n < 1000; n++) {
        char *m = vmi_read_str_va(vmi, next + 16, 0);
        printf("module %s\n", m ? m : "?");
        free(m);
        if (VMI_FAILURE == vmi_read_addr_va(vmi, next, 0, &next))
            break;
    }

    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "sym:", 4) == 0) {
            addr_t va = 0;
            if (VMI_SUCCESS == vmi_translate_ksym2v(vmi, argv[i] + 4, &va))
                printf("sym %s 0x%" PRIx64 "\n", argv[i] + 4, va);
            else
                printf("sym %s none\n", argv[i] + 4);
        } else if (strncmp(argv[i], "read:", 5) == 0) {
            int rpid = 0;
            uint64_t va = 0, pa = 0;
            size_t len = 0;
            if (sscanf(argv[i] + 5, "%d:%" SCNx64 ":%zu", &rpid, &va, &len) != 3)
                continue;
            addr_t dtb = 0;
            if (VMI_FAILURE == vmi_pid_to_dtb(vmi, rpid, &dtb) ||
                VMI_FAILURE == vmi_translate_uv2p(vmi, va, rpid, &pa)) {
                printf("read %d 0x%" PRIx64 " none\n", rpid, va);
                continue;
            }
            char buf[256] = {0};
            size_t got = 0;
            if (len >= sizeof buf)
                len = sizeof buf - 1;
            access_context_t ctx = {.version = ACCESS_CONTEXT_VERSION, .translate_mechanism = VMI_TM_PROCESS_PID,
                                    .pid = rpid, .addr = va};
            vmi_read(vmi, &ctx, len, buf, &got);
            printf("read %d 0x%" PRIx64 " 0x%" PRIx64 " %s\n", rpid, va, pa, buf);
        }
    }
    vmi_destroy(vmi);
    return 0;
}
