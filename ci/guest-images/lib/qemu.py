"""Boot a guest under QEMU (TCG), talk to it over its serial console, dump its memory (QMP)."""

import json
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


class QemuError(Exception):
    pass


def qemu_command(kernel: Path, initrd: Path, append: str, memory_mib: int, qmp_socket: Path):
    """The QEMU command line (part of the recipe: changing it rebuilds the images)."""
    return [
        "qemu-system-x86_64", "-accel", "tcg", "-machine", "pc", "-cpu", "qemu64",
        "-m", f"{memory_mib}M", "-smp", "1",
        "-display", "none", "-vga", "none", "-serial", "stdio", "-monitor", "none",
        "-no-reboot", "-net", "none",
        "-qmp", f"unix:{qmp_socket},server=on,wait=off",
        "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
    ]


class Qmp:
    def __init__(self, path: Path, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QemuError(f"QMP socket {path} did not accept a connection within {timeout:.0f} s")
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        try:
            line = self.file.readline()
        except socket.timeout:
            raise QemuError("QMP: no answer in time")
        if not line:
            raise QemuError("QMP: connection closed")
        return json.loads(line)

    def execute(self, command, timeout: float = 60, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.settimeout(timeout)
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QemuError(f"QMP {command}: {reply['error']}")
            # asynchronous events (STOP, RESUME, ...) are skipped

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Guest:
    """A running QEMU guest: its serial console line by line (logged) and QMP."""

    def __init__(self, kernel, initrd, append, memory_mib, log_path: Path, qmp_timeout=30):
        if not shutil.which("qemu-system-x86_64"):
            raise QemuError("qemu-system-x86_64 not found (Debian package: qemu-system-x86)")
        self.memory_mib = memory_mib
        self.tmp = tempfile.mkdtemp(prefix="tvmi-qemu-")
        self.proc = self.log = None
        try:
            qmp_path = Path(self.tmp) / "qmp.sock"
            self.cmd = qemu_command(kernel, initrd, append, memory_mib, qmp_path)
            self.log = open(log_path, "w", errors="replace")
            self.log.write("# " + " ".join(self.cmd) + "\n")
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
            self.lines = queue.Queue()
            threading.Thread(target=self._pump, daemon=True).start()
            self.qmp = Qmp(qmp_path, qmp_timeout)
        except BaseException as e:
            rc = self.proc.poll() if self.proc else None
            if self.proc and rc is None:
                self.proc.kill()
                self.proc.wait()
            if self.log:
                self.log.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(e, QemuError):
                raise QemuError(f"{e}; QEMU {'exited with ' + str(rc) if rc is not None else 'killed'}, "
                                f"see {log_path}") from None
            raise

    def _log(self, line):
        try:
            self.log.write(line + "\n")
        except ValueError:  # closed: QEMU is being torn down
            pass

    def _pump(self):
        bulk = 0  # lines of base64 (kallsyms) are not logged, only counted
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n").replace("\r", "")
            if line.startswith("TVMI-KALLSYMS-END"):
                self._log(f"[{bulk} lines of base64 not logged]")
                bulk = 0
            if bulk:
                bulk += 1
            else:
                self._log(line)
            if line.startswith("TVMI-KALLSYMS-BEGIN"):
                bulk = 1
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float, what: str):
        """Read lines until one starts with `prefix`; returns (that line, lines before it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QemuError(f"timed out after {timeout:.0f} s waiting for {what} "
                                f"(last console lines: {seen[-5:]})")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise QemuError(f"QEMU exited ({self.proc.wait()}) while waiting for {what} "
                                f"(last console lines: {seen[-5:]})")
            if line.startswith("TVMI-ERROR"):
                raise QemuError(f"the guest reported an error: {line}")
            if line.startswith(prefix):
                return line, seen
            seen.append(line)

    def send(self, line: str):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def dump_memory(self, path: Path):
        """Pause the guest, save all of its RAM (file offset == guest-physical address), resume."""
        size = self.memory_mib << 20
        self.qmp.execute("stop")
        try:
            self.qmp.execute("pmemsave", timeout=120, val=0, size=size, filename=str(path))
        finally:
            self.qmp.execute("cont")
        if path.stat().st_size != size:
            raise QemuError(f"{path}: {path.stat().st_size} bytes, expected {size}")

    def close(self):
        try:
            self.qmp.execute("quit", timeout=10)
        except Exception:
            pass
        self.qmp.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
