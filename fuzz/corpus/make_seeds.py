#!/usr/bin/env python3
"""Write the seed inputs of the fuzz targets: fuzz/corpus/<target>/seed-*.

The seeds are committed; this script documents what each one is and regenerates them
(the config_string seeds from the guest image set's libvmi.conf files: $TINYVMI_IMAGES,
else the newest set under ~/.cache/tinyvmi/images, as the tests find it). libFuzzer adds
its own finds to the same directories, named by SHA-1; fuzz/.gitignore keeps those out.
"""
import os
import re
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The fake System.map the config_string target writes at start (fuzz_targets/config_string.rs).
FAKE_SYSMAP = "/tmp/tinyvmi-fuzz-config/System.map"


def write(target, name, data):
    d = HERE / target
    d.mkdir(exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


def image_set():
    if os.environ.get("TINYVMI_IMAGES"):
        return Path(os.environ["TINYVMI_IMAGES"])
    cache = Path(
        os.environ.get("TINYVMI_CACHE_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyvmi"
    )
    sets = [p for p in (cache / "images").glob("*") if (p / "image-set.json").is_file()]
    if not sets:
        sys.exit("no guest image set: run ci/guest-images/build or set TINYVMI_IMAGES")
    return max(sets, key=lambda p: (p / "image-set.json").stat().st_mtime)


# --- glib_ops: 3-byte records [op, a, b] (see fuzz_targets/glib_ops.rs) ---------------

def glib_seeds():
    r = lambda op, a=0, b=0: bytes([op, a, b])
    text = b"Hello, World! MiXeD 123 \xc3\xa9t\xc3\xa9"
    write("glib_ops", "hash-direct", b"".join([
        *(r(0, k, k + 1) for k in (1, 2, 3, 0x81, 0x82, 40)),   # insert, small and wide keys
        r(3, 2), r(3, 0x81), r(3, 9),                             # lookup
        r(1, 2, 0x90), r(0, 3, 7), r(4),                          # replace (wide value), insert existing, size
        r(2, 1), r(2, 1), r(6, 1), r(7), r(4), r(5, 0), r(4),     # remove, foreach_remove, iterate, remove_all
    ]))
    write("glib_ops", "hash-wide", b"".join(
        [r(0, 0x80 | k, 0x80 | k) for k in range(40)] + [r(7), r(6, 3), r(7)]))
    write("glib_ops", "hash-strings", b"".join([
        r(8, 1, 1), r(8, 2, 2), r(8, 1, 3), r(9, 2, 4), r(11, 1), r(11, 2), r(11, 5),
        r(12), r(10, 1), r(10, 1), r(12),
    ]))
    write("glib_ops", "slist-queue", b"".join([
        r(13, 0, 1), r(14, 0, 2), r(13, 0, 0x83), r(16, 5, 6), r(15, 0, 2), r(15, 0, 9),
        r(17, 0, 1), r(17, 0, 2), r(17, 0, 3), r(19, 0, 1), r(18), r(18), r(18), r(18),
    ]))
    write("glib_ops", "tree", b"".join([
        *(r(20, k, k) for k in (5, 3, 8, 1, 4, 0x85, 7)),
        r(20, 3, 9), r(22, 3), r(22, 6), r(21, 5), r(21, 5), r(23, 3), r(23, 7),
    ]))
    for op, name in ((24, "strndup"), (25, "strlcpy"), (26, "strdown"), (27, "printf")):
        write("glib_ops", f"string-{name}", r(0, 1, 2) + r(op, 9, 5) + text)


# --- config_string: the text after the entry name ------------------------------------

def config_seeds():
    images = image_set()
    for variant, conf in (("nokaslr", "libvmi.conf"), ("nokaslr", "libvmi-kpgd.conf"),
                          ("kaslr", "libvmi.conf")):
        text = (images / variant / conf).read_text()
        body = text[text.index("{"):]  # LibVMI prepends the entry name itself
        body = re.sub(r'sysmap = "[^"]*"', f'sysmap = "{FAKE_SYSMAP}"', body)
        write("config_string", f"{variant}-{conf}", body)
    write("config_string", "windows.conf", """{
    ostype = "Windows";
    win_tasks = 0x188;
    win_pdbase = 0x28;
    win_pid = 0x180;
    win_pname = 0x2e0;
    win_kdvb = 0x0;
}
""")
    write("config_string", "freebsd.conf", f"""{{
    ostype = "FreeBSD";
    sysmap = "{FAKE_SYSMAP}";
    freebsd_name = 0x3b8;
    freebsd_pid = 0xbc;
    freebsd_vmspace = 0x180;
    freebsd_pmap = 0x130;
    freebsd_pgd = 0x0;
}}
""")
    write("config_string", "two-entries.conf", """{ ostype = "Linux"; }
# a comment line
other-vm.raw { ostype = "Windows"; pagemode = "VMI_PM_PAE"; }
""")
    write("config_string", "aarch64.conf", """{
    ostype = "Linux";
    pagemode = "VMI_PM_AARCH64";
    aarch64_ttbr0_va_width = 48;
    aarch64_ttbr0_granule_size = "4KB";
    aarch64_ttbr1_va_width = 48;
    aarch64_ttbr1_granule_size = "4KB";
}
""")
    write("config_string", "profiles.conf",
          '{ volatility_ist = "/tmp/tinyvmi-fuzz-config/none.json"; '
          'rekall_profile = "/tmp/tinyvmi-fuzz-config/none.json"; }\n')
    write("config_string", "other-keys.conf", """{ ostype = "Linux"; linux_addr = 0x0;
    linux_init_task = 0xffffffff82a0a940; linux_kaslr = 01000; kpgd = 4096;
    win_ntoskrnl = 0x0; win_ntoskrnl_va = 0x0; win_kdbg = 0x0; win_kpcr = 0x0;
    win_sysproc = 0x0; pagemode = "IA32E"; }
""")


# --- os_walkers: 16-byte records (see fuzz_targets/os_walkers.rs) ---------------------

TASK, MODULE, MM, HEAD = 0, 4, 6, 7
# field indexes
T_NEXT, T_PREV, T_MM, T_TG_NEXT, T_TG_PREV, T_NAME, T_NAME8, T_PID, T_TGID = range(9)
M_NEXT, M_PREV, M_NAME = 0, 1, 2
LITERAL, INTO_TASK, INTO_MODULE, WILD, SELF, CLEAN_PLUS, PARTIAL, HEADS = range(8)


def rec(obj, which, field, kind, a5=0, a6=0, a7=0, literal=0, words=0):
    """One record; `words` moves the target by that many 8-byte words (-16..15)."""
    return struct.pack("<8BQ", obj, which, field, (words << 3) & 0xff, kind, a5, a6, a7,
                       literal & 0xFFFF_FFFF_FFFF_FFFF)


def os_seeds():
    w = lambda name, *recs: write("os_walkers", name, b"".join(recs))
    w("clean")  # no writes: the clean walk
    w("tasks-self-loop", rec(TASK, 0, T_NEXT, SELF))
    w("tasks-null", rec(TASK, 5, T_NEXT, WILD, a5=8))
    w("tasks-wild", rec(TASK, 10, T_NEXT, WILD, a5=0))
    w("tasks-cycle-back", rec(TASK, 20, T_NEXT, INTO_TASK, a5=5, a6=T_NEXT))
    w("tasks-misaligned", rec(TASK, 7, T_NEXT, CLEAN_PLUS, a5=3))
    w("tasks-into-modules", rec(TASK, 12, T_NEXT, HEADS, a5=0))
    w("comm-no-nul", rec(TASK, 3, T_NAME, LITERAL, literal=0x4141414141414141),
      rec(TASK, 3, T_NAME8, LITERAL, literal=0x4242424242424242))
    w("comm-invalid-utf8", rec(TASK, 4, T_NAME, LITERAL, literal=-1),
      rec(TASK, 4, T_NAME8, PARTIAL, a5=6, literal=0x00ff_fe_c3_80_e2_82_ff))
    w("pid-negative", rec(TASK, 6, T_PID, PARTIAL, a5=3, literal=0xffffffff),
      rec(TASK, 8, T_PID, PARTIAL, a5=3, literal=0x80000000))
    w("mm-wild", rec(TASK, 30, T_MM, WILD, a5=3), rec(MM, 0, 0, WILD, a5=0),
      rec(MM, 1, 0, CLEAN_PLUS, a5=0x10))
    w("thread-group-foreign", rec(TASK, 2, T_TG_NEXT, INTO_TASK, a5=9, a6=T_TG_NEXT))
    w("thread-group-into-tasks", rec(TASK, 25, T_TG_NEXT, INTO_TASK, a5=25, a6=T_NEXT))
    w("module-cycle", rec(MODULE, 1, M_NEXT, INTO_MODULE, a5=0, a6=M_NEXT))
    w("module-wild", rec(MODULE, 0, M_NEXT, WILD, a5=4))
    w("module-name-no-nul", *(rec(MODULE, 0, M_NAME, LITERAL, literal=0x4d4d4d4d4d4d4d4d,
                                  words=i) for i in range(7)))
    w("modules-head-self", rec(HEAD, 0, 0, SELF))
    w("mixed", rec(TASK, 1, T_PREV, WILD, a5=7), rec(TASK, 15, T_TGID, LITERAL, literal=0),
      rec(MODULE, 2, M_PREV, SELF), rec(TASK, 40, T_NEXT, INTO_TASK, a5=40, a6=T_NAME, a7=4))


if __name__ == "__main__":
    glib_seeds()
    config_seeds()
    os_seeds()
