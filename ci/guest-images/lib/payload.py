"""The guest payload of TinyVMI's guest images: a busybox initramfs whose /init starts
recognisable processes (among them the marker, see guest/marker.c), prints the guest's
ground truth to the console and waits for the host (protocol: guest/init).

Reusable on its own (for example for Xen domUs): `build_initramfs()` needs only the
kernel's module tree, busybox-static and gcc, and writes a byte-for-byte reproducible
gzip'd newc cpio archive (fixed timestamps, owners and inode numbers), in pure Python.
"""

import base64
import gzip
import io
import os
import re
import stat
import struct
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
GUEST_DIR = HERE.parent / "guest"
INIT_SCRIPT = GUEST_DIR / "init"
MARKER_SOURCE = GUEST_DIR / "marker.c"
BUSYBOX = Path("/bin/busybox")

# The marker's strings in argv and the environment (data, heap and stack are in marker.c).
MARKER_ARGV = "TINYVMI-MARKER-ARGV-31c8f2d5"
MARKER_ENV = "TINYVMI-MARKER-ENV-e96a0b47"

# Real modules from the kernel package, without dependencies (checked), loaded in order.
DEFAULT_MODULES = (
    "kernel/lib/crc7.ko",
    "kernel/lib/crc-itu-t.ko",
    "kernel/drivers/net/dummy.ko",
)


class PayloadError(Exception):
    pass


def compile_marker(out: Path, cc: str = "gcc") -> Path:
    """Compile guest/marker.c into a static binary (needs gcc and libc6-dev)."""
    cmd = [cc, "-static", "-O2", "-s", "-pthread", "-Wall", "-Werror",
           "-o", str(out), str(MARKER_SOURCE)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise PayloadError(f"compiling the marker failed: {' '.join(cmd)}\n{r.stderr}")
    return out


def modinfo(ko: Path) -> dict:
    """The .modinfo section of a kernel module (key -> value), read from its ELF file."""
    data = ko.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise PayloadError(f"{ko}: not a 64-bit ELF module (compressed modules are not supported)")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        name, _type, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        if data[stroff + name:data.index(b"\0", stroff + name)] == b".modinfo":
            info = {}
            for entry in data[off:off + size].split(b"\0"):
                if b"=" in entry:
                    k, v = entry.decode(errors="replace").split("=", 1)
                    info[k] = v
            return info
    raise PayloadError(f"{ko}: no .modinfo section")


def busybox_applets(busybox: Path = BUSYBOX) -> list:
    r = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return sorted(set(r.stdout.split()))


class Cpio:
    """A reproducible newc ("070701") cpio archive writer."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", nlink=1, rdev=(0, 0)):
        name = name.lstrip("/")
        if name in self.names:
            raise PayloadError(f"duplicate initramfs entry {name}")
        self.names.add(name)
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.buf.write(hdr + name.encode() + b"\0")
        self.buf.write(b"\0" * (-self.buf.tell() % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data: bytes, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0, nlink=1)
        self.buf.write(b"\0" * (-self.buf.tell() % 512))
        return self.buf.getvalue()


def build_initramfs(out: Path, module_tree: Path, marker_binary: Path,
                    modules=DEFAULT_MODULES, busybox: Path = BUSYBOX,
                    init_script: Path = INIT_SCRIPT, extra_files=None) -> dict:
    """Write the initramfs (gzip'd newc cpio) to `out`.

    module_tree: the kernel's /lib/modules/<version> directory (from `dpkg -x`).
    modules: paths relative to module_tree, loaded in this order; none may have dependencies.
    extra_files: optional {guest path: bytes} added as they are (e.g. another /init hook).
    Returns a description of what went in: {"modules": [{"name", "path"}], "marker_argv", ...}.
    """
    cpio = Cpio()
    for d in ("bin", "dev", "etc", "etc/tvmi", "lib", "lib/modules", "proc", "run", "sys", "tmp"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)

    cpio.file("bin/busybox", busybox.read_bytes(), 0o755)
    for applet in busybox_applets(busybox):
        if applet != "busybox":
            cpio.symlink(f"bin/{applet}", "busybox")
    cpio.file("bin/tvmi-marker", marker_binary.read_bytes(), 0o755)
    cpio.symlink("bin/tvmi-idle-a", "tvmi-marker")
    cpio.symlink("bin/tvmi-idle-b", "tvmi-marker")
    cpio.file("init", init_script.read_bytes(), 0o755)
    cpio.file("etc/tvmi/marker-argv", (MARKER_ARGV + "\n").encode())
    cpio.file("etc/tvmi/marker-env", (MARKER_ENV + "\n").encode())

    loaded = []
    for rel in modules:
        ko = module_tree / rel
        if not ko.is_file():
            raise PayloadError(f"module {rel} not found under {module_tree}")
        info = modinfo(ko)
        if info.get("depends"):
            raise PayloadError(f"module {rel} depends on {info['depends']}; pick one without dependencies")
        name = info.get("name") or ko.name[:-3].replace("-", "_")
        cpio.file(f"lib/modules/{ko.name}", ko.read_bytes())
        loaded.append({"name": name, "file": ko.name, "path": rel})
    cpio.file("etc/tvmi/modules", "".join(m["file"] + "\n" for m in loaded).encode())

    for name, data in sorted((extra_files or {}).items()):
        cpio.file(name, data, 0o755)

    raw = cpio.finish()
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        # mtime=0 and no file name in the header: the same input gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as gz:
            gz.write(raw)
    os.replace(tmp, out)
    return {"modules": loaded, "marker_argv": MARKER_ARGV, "marker_env": MARKER_ENV}


# --- the host's side of the console protocol (see guest/init) -----------------------------

def parse_report(lines):
    """TVMI-FACT and marker lines -> ({fact: [values]}, [marker dicts])."""
    facts, markers = {}, []
    for line in lines:
        if line.startswith("TVMI-FACT "):
            _, key, value = line.split(" ", 2)
            facts.setdefault(key, []).append(value)
        elif line.startswith("marker "):
            f = dict(kv.split("=", 1) for kv in line.split(" ")[1:])
            markers.append({"kind": f["kind"], "pid": int(f["pid"]), "vaddr": f["vaddr"],
                            "paddr": f["paddr"], "text": f["text"]})
    return facts, markers


def decode_kallsyms(base64_lines):
    return gzip.decompress(base64.b64decode("".join(base64_lines))).decode()


def task_comm(proc_name, kernel_thread):
    """task_struct.comm from the name /proc shows: for workqueue workers /proc appends
    "+<work>" or "-<work>" (what the worker does or did last, which changes by itself),
    for other kernel threads it shows the full name given at creation."""
    if kernel_thread and proc_name.startswith("kworker/"):
        proc_name = re.split(r"[+-]", proc_name, maxsplit=1)[0]
    # Kernel threads show their full name; comm holds 15 bytes and a NUL.
    return proc_name.encode()[:15].decode(errors="ignore")


def parse_ground_truth(lines):
    procs, modules = {}, []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "proc":
            pid, ppid, kthread, name = (rest.split(" ", 3) + [""])[:4]
            name = task_comm(name, kthread == "1")
            procs[int(pid)] = {"pid": int(pid), "ppid": int(ppid), "name": name,
                               "kernel_thread": kthread == "1", "threads": []}
        elif kind == "thread":
            pid, tid, name = (rest.split(" ", 2) + [""])[:3]
            name = task_comm(name, procs[int(pid)]["kernel_thread"])
            procs[int(pid)]["threads"].append({"tid": int(tid), "name": name})
        elif kind == "module":
            f = rest.split()
            modules.append({"name": f[0], "size": int(f[1]), "refcount": int(f[2]),
                            "state": f[4], "address": f[5] if len(f) > 5 else None})
        elif line.strip():
            raise PayloadError(f"unexpected ground-truth line: {line!r}")
    for p in procs.values():
        p["threads"].sort(key=lambda t: t["tid"])
    return {"processes": [procs[k] for k in sorted(procs)], "modules": modules}


def describe_change(before, after):
    def items(gt):
        procs = {(p["pid"], p["name"], t["tid"], t["name"]) for p in gt["processes"] for t in p["threads"]}
        return procs | {tuple(sorted(m.items())) for m in gt["modules"]}
    a, b = items(before), items(after)
    return f"gone: {sorted(a - b, key=str)[:5]}, new: {sorted(b - a, key=str)[:5]}"
