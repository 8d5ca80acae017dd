"""The guest kernel: Debian's linux-image package, its vmlinux, BTF offsets, symbols."""

import gzip
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

# x86_64 link-time constants (arch/x86/include/asm/page_64_types.h).
START_KERNEL_MAP = 0xFFFFFFFF80000000  # __START_KERNEL_map
KERNEL_TEXT_LINK = 0xFFFFFFFF81000000  # _text without KASLR (CONFIG_PHYSICAL_START 0x1000000)
KASLR_ALIGN = 0x200000                 # CONFIG_PHYSICAL_ALIGN


class KernelError(Exception):
    pass


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise KernelError(f"`{' '.join(cmd)}` failed ({r.returncode}):\n{r.stderr.strip()}")
    return r.stdout


# --- the Debian package -------------------------------------------------------------------

def resolve_kernel_package(debs_dir: Path, wanted: str = None):
    """(package, version) of the kernel to use: `wanted`, else what linux-image-amd64
    depends on, else (no usable apt lists) the newest linux-image .deb already cached.
    One apt-cache call (about 2 s where apt keeps no binary cache)."""
    pkg = version = None
    try:
        out = run(["apt-cache", "show", "--no-all-versions", wanted or "linux-image-amd64"])
        if wanted:
            m = re.search(r"^Version: (\S+)", out, re.M)
            pkg, version = wanted, (m.group(1) if m else None)
        else:
            m = re.search(r"^Depends:.*\b(linux-image-6\.1\.0-[0-9]+-amd64) \(= ([^)\s]+)\)", out, re.M)
            pkg, version = (m.group(1), m.group(2)) if m else (None, None)
    except (KernelError, FileNotFoundError):
        pass
    if pkg and version:
        return pkg, version
    cached = sorted(debs_dir.glob(f"{wanted or 'linux-image-6.1.0-*-amd64'}_*_amd64.deb"),
                    key=lambda p: p.stat().st_mtime)
    if cached:
        name, version, _ = cached[-1].name.split("_")
        return name, version.replace("%3a", ":")
    raise KernelError("cannot find the kernel package: `apt-cache show linux-image-amd64` "
                      "gave nothing (run `apt-get update` on a Debian 12 machine) and no "
                      f"linux-image .deb is cached in {debs_dir}")


def fetch_deb(debs_dir: Path, pkg: str, version: str) -> Path:
    """The package's .deb, from the cache or downloaded with `apt-get download`."""
    debs_dir.mkdir(parents=True, exist_ok=True)
    fname = f"{pkg}_{version.replace(':', '%3a')}_amd64.deb"
    deb = debs_dir / fname
    if deb.is_file():
        return deb
    with tempfile.TemporaryDirectory(dir=debs_dir) as tmp:
        os.chmod(tmp, 0o755)  # so that apt's sandbox user may write there
        run(["apt-get", "download", "-q", f"{pkg}={version}"], cwd=tmp)
        got = list(Path(tmp).glob(f"{pkg}_*.deb"))
        if len(got) != 1:
            raise KernelError(f"apt-get download {pkg}={version} produced {got}")
        os.replace(got[0], deb)
    return deb


def unpack_kernel(deb: Path, kernels_dir: Path) -> Path:
    """`dpkg -x` the package once; returns the tree (with boot/ and lib/modules/)."""
    tree = kernels_dir / deb.name[:-4]
    if (tree / ".complete").exists():
        return tree
    if tree.exists():
        shutil.rmtree(tree)
    tmp = Path(tempfile.mkdtemp(dir=kernels_dir, prefix=".unpack-"))
    run(["dpkg-deb", "-x", str(deb), str(tmp)])
    (tmp / ".complete").write_text("")
    os.replace(tmp, tree)
    return tree


def kernel_files(tree: Path):
    """(kernel release, vmlinuz path, module tree path) of an unpacked package."""
    vmlinuz = sorted((tree / "boot").glob("vmlinuz-*"))
    if len(vmlinuz) != 1:
        raise KernelError(f"expected one vmlinuz in {tree}/boot, found {vmlinuz}")
    release = vmlinuz[0].name[len("vmlinuz-"):]
    return release, vmlinuz[0], tree / "lib" / "modules" / release


def extract_vmlinux(vmlinuz: Path, out: Path) -> Path:
    """Decompress the ELF kernel from a bzImage (xz, zstd or gzip payload)."""
    if out.is_file():
        return out
    data = vmlinuz.read_bytes()
    candidates = []
    for magic, kind in ((b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b\x08", "gzip")):
        pos = data.find(magic)
        while pos >= 0:
            candidates.append((pos, kind))
            pos = data.find(magic, pos + 1)
    for pos, kind in sorted(candidates):
        try:
            if kind == "xz":
                elf = lzma.LZMADecompressor().decompress(data[pos:])
            elif kind == "gzip":
                elf = gzip.GzipFile(fileobj=__import__("io").BytesIO(data[pos:])).read()
            else:
                elf = subprocess.run(["zstd", "-dcq"], input=data[pos:], capture_output=True).stdout
        except Exception:
            continue
        if elf[:4] == b"\x7fELF":
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_bytes(elf)
            os.replace(tmp, out)
            return out
    raise KernelError(f"no compressed ELF kernel found in {vmlinuz}")


# --- the ELF vmlinux -----------------------------------------------------------------------

class Elf:
    def __init__(self, path: Path):
        self.data = path.read_bytes()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise KernelError(f"{path}: not a 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        raw = [struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize) for i in range(shnum)]
        stroff = raw[shstrndx][4]
        self.sections = {}
        for name, typ, _flags, addr, off, size in raw:
            sname = d[stroff + name:d.index(b"\0", stroff + name)].decode()
            self.sections[sname] = (addr, off, size, typ)

    def section(self, name):
        if name not in self.sections:
            raise KernelError(f"vmlinux has no {name} section")
        return self.sections[name]

    def read(self, vaddr, size):
        """Up to `size` bytes at a link-time virtual address (from a PROGBITS section;
        fewer at the section's end)."""
        for addr, off, ssize, typ in self.sections.values():
            if typ == 1 and addr <= vaddr < addr + ssize:
                size = min(size, addr + ssize - vaddr)
                return self.data[off + vaddr - addr:off + vaddr - addr + size]
        raise KernelError(f"address {vaddr:#x} is in no section of vmlinux")

    def ksymtab(self):
        """Exported symbols -> link-time address, from __ksymtab and __ksymtab_gpl
        (entries of three 32-bit place-relative offsets: value, name, namespace)."""
        syms = {}
        for sec in ("__ksymtab", "__ksymtab_gpl"):
            addr, off, size, _ = self.section(sec)
            for i in range(0, size, 12):
                value_off, name_off, _ns = struct.unpack_from("<iii", self.data, off + i)
                value = addr + i + value_off
                name_addr = addr + i + 4 + name_off
                name = self.read(name_addr, 128).split(b"\0")[0].decode()
                syms[name] = value & 0xFFFFFFFFFFFFFFFF
        return syms


# --- BTF offsets ---------------------------------------------------------------------------

# LibVMI's configuration key -> (struct, member path); members may sit in unnamed structs.
LIBVMI_OFFSETS = {
    "linux_tasks": ("task_struct", "tasks"),
    "linux_mm": ("task_struct", "mm"),
    "linux_pid": ("task_struct", "pid"),
    "linux_name": ("task_struct", "comm"),
    "linux_pgd": ("mm_struct", "pgd"),
}


# Further offsets a test may want (threads, parents, modules); not LibVMI configuration keys.
OTHER_OFFSETS = {
    "task_struct.tgid": ("task_struct", "tgid"),
    "task_struct.thread_group": ("task_struct", "thread_group"),
    "task_struct.real_parent": ("task_struct", "real_parent"),
    "task_struct.flags": ("task_struct", "flags"),
    "module.list": ("module", "list"),
    "module.name": ("module", "name"),
}


def btf_offsets(vmlinux: Path, table=None) -> dict:
    """Offsets from the kernel's BTF (bpftool), cross-checked with pahole if present.
    table: {key: (struct, member)}, default LIBVMI_OFFSETS.
    Returns {key: {"value": int, "struct", "member", "source", "path": [...]}}."""
    table = table or LIBVMI_OFFSETS
    if not shutil.which("bpftool"):
        raise KernelError("bpftool not found (Debian package: bpftool)")
    types = json.loads(run(["bpftool", "-j", "btf", "dump", "file", str(vmlinux)]))["types"]
    by_id = {t["id"]: t for t in types}
    structs = {}
    for t in types:
        if t["kind"] == "STRUCT" and t["name"] != "(anon)":
            structs.setdefault(t["name"], t)

    def find(t, member):
        """(byte offset, path) of `member` in struct/union t, looking into unnamed members."""
        for m in t.get("members", []):
            if m["name"] == member:
                if m["bits_offset"] % 8:
                    raise KernelError(f"{t['name']}.{member} is a bit field")
                return m["bits_offset"] // 8, [member]
        for m in t.get("members", []):
            sub = by_id[m["type_id"]]
            if m["name"] == "(anon)" and sub["kind"] in ("STRUCT", "UNION"):
                found = find(sub, member)
                if found:
                    return m["bits_offset"] // 8 + found[0], ["(anon)"] + found[1]
        return None

    result = {}
    for key, (struct_name, member) in table.items():
        if struct_name not in structs:
            raise KernelError(f"BTF has no struct {struct_name}")
        found = find(structs[struct_name], member)
        if not found:
            raise KernelError(f"BTF: struct {struct_name} has no member {member}")
        result[key] = {"value": found[0], "struct": struct_name, "member": member,
                       "path": found[1], "source": "BTF of vmlinux (bpftool btf dump, JSON)"}

    if shutil.which("pahole"):
        for struct_name in sorted({s for s, _ in table.values()}):
            members = pahole_members(run(["pahole", "-F", "btf", "-C", struct_name, str(vmlinux)]))
            for key, (sname, member) in table.items():
                if sname != struct_name:
                    continue
                if members.get(member) != result[key]["value"]:
                    raise KernelError(f"{sname}.{member}: BTF via bpftool says {result[key]['value']}, "
                                      f"pahole says {members.get(member)}")
                result[key]["checked_with"] = "pahole -F btf (same offset)"
    return result


def pahole_members(text: str) -> dict:
    """Member name -> absolute byte offset from `pahole -C` output (nested unnamed
    structs and unions resolved through their closing line's offset)."""
    stack = [[]]  # per open scope: [(name, relative offset)]
    out = {}
    lines = text.splitlines()
    for line in lines[1:]:
        s = line.strip()
        if re.match(r"^(struct|union)\s*\{$", s) or re.match(r"^(struct|union) \S+ \{$", s):
            stack.append([])
            continue
        m = re.match(r"^\}\s*(\w*)\s*(__\w+)?\s*;\s*/\*\s*(\d+)\s+\d+\s*\*/", s)
        if m and len(stack) > 1:
            inner = stack.pop()
            if not m.group(1):  # unnamed: its members belong to the enclosing scope
                stack[-1].extend((n, int(m.group(3)) + off) for n, off in inner)
            continue
        m = re.match(r"^.*?[\s*\)](\w+)(\[\d+\])?(:\d+)?;\s*/\*\s*(\d+)(:\d+)?\s+\d+\s*\*/", s)
        if m:
            stack[-1].append((m.group(1), int(m.group(4))))
    for name, off in stack[0]:
        out.setdefault(name, off)
    return out


# --- System.map from the guest's kallsyms -------------------------------------------------

def system_map(kallsyms: str, kaslr_offset: int) -> str:
    """The link-time System.map: core-kernel lines of /proc/kallsyms with the KASLR offset
    taken off kernel-image addresses (per-CPU symbols are offsets and stay as they are),
    plus the absolute symbol phys_startup_64 (kallsyms leaves absolute symbols out;
    LibVMI's file mode needs it to find the kernel's physical base)."""
    entries = []
    startup_64 = None
    for line in kallsyms.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue  # module symbols have a 4th column: [module]
        addr, typ, name = int(parts[0], 16), parts[1], parts[2]
        if addr >= START_KERNEL_MAP:
            addr -= kaslr_offset
        entries.append((addr, typ, name))
        if name == "startup_64":
            startup_64 = addr
    if startup_64 is None:
        raise KernelError("kallsyms has no startup_64")
    entries.append((startup_64 - START_KERNEL_MAP, "A", "phys_startup_64"))
    entries.sort(key=lambda e: (e[0], e[2]))
    return "".join(f"{a:016x} {t} {n}\n" for a, t, n in entries)


def parse_system_map(text: str) -> dict:
    syms = {}
    for line in text.splitlines():
        a, _t, n = line.split()[:3]
        syms.setdefault(n, int(a, 16))
    return syms
