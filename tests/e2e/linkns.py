"""Two network namespaces joined by tools/linkemu, for the tests and the benchmarks: make the
namespaces, start linkemu between them, run commands in either end, change the link while it
runs, read its counters, and always clean up. Standard library only; needs root.

    import linkns
    why = linkns.unavailable(linkemu_path)           # None, or why it cannot run here
    with linkns.Link(linkemu_path, a2b="rate=20mbit delay=10ms", b2a="delay=10ms") as link:
        rc, out = link.run("a", ["ping", "-c", "5", link.addr("b")])
        link.set("a2b", "rate=5mbit")                 # through linkemu's control socket
        link.stats()["a2b"]["dropped_queue"]
    # here linkemu has stopped, every process started through the link is killed and both
    # namespaces are deleted, whether the block passed or raised

End "a" has address 10.213.N.1, end "b" 10.213.N.2 (/24; N counts the links of this process:
the namespaces are private, so other processes' links may use the same numbers). Namespaces
are named fc-le-PID-N-a and -b; a later run deletes those of a process that is gone.

Every wait is bounded. Cleanup runs on leaving the with-block, at interpreter exit, and on
SIGTERM (turned into SystemExit when the program has no handler of its own). linkemu and every
process started in a namespace also get SIGKILL from the kernel if this process dies (the
parent-death signal, with setpriv), and linkemu stops by itself after `lifetime` seconds at the
latest. The parent-death signal comes when the *thread* that started a process ends: a link
used from several threads is started on one that outlives it. Links may run in parallel, each
on its own thread."""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

PREFIX = "fc-le"
NET = "10.213"
_links = []
_count = 0
_lock = threading.Lock()


def _guarded(args):
    """args run so that the kernel kills them (SIGKILL) when the thread that started them ends,
    so that a test killed by a timeout leaves no linkemu or iperf3 running. setpriv (util-linux)
    sets the parent-death signal and execs: no preexec_fn, which is unsafe with threads."""
    if shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "KILL", "--", *args]
    return list(args)


def _ip(*args, timeout=10):
    return subprocess.run(["ip", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def _alive(pid):
    """Whether process pid runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def sweep_stale():
    """Deletes the namespaces of links whose process has gone (killed before it cleaned up)."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        m = re.fullmatch(rf"{PREFIX}-(\d+)-\d+-[ab]", name)
        if m and not _alive(int(m.group(1))):
            _ip("netns", "del", name)


def missing(*programs):
    """The programs of the list that are not on PATH."""
    return [p for p in programs if not shutil.which(p)]


def unavailable(linkemu):
    """None when links can be made here, else why not (for a test's "skipped: ..." line)."""
    if os.geteuid() != 0:
        return "network namespaces and TUN devices need root"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (modprobe tun)"
    if missing("ip"):
        return "no ip command (apt-get install iproute2)"
    if not os.access(linkemu, os.X_OK):
        return f"{linkemu} is not built"
    probe = f"{PREFIX}-{os.getpid()}-probe-a"
    r = _ip("netns", "add", probe)
    _ip("netns", "del", probe)
    if r.returncode != 0:
        return f"cannot make a network namespace: {r.stderr.strip()}"
    return None


def _cleanup_all():
    for link in list(_links):
        link.close()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(_cleanup_all)


class Proc:
    """A process started in one end of a link; output to a log file, killed at the link's end."""

    def __init__(self, name, args, log_path, stdout_path=None):
        self.name = name
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "w")
        self._out = open(stdout_path, "w") if stdout_path else None
        self.p = subprocess.Popen(_guarded(args), stdout=self._out or self._log,
                                  stderr=self._log, stdin=subprocess.DEVNULL)

    def wait(self, timeout):
        """The exit status; kills it and raises AssertionError if it runs past timeout."""
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not finish within {timeout} s:\n"
                                 f"{self.output()}")

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.wait(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=5)
        self._log.close()
        if self._out:
            self._out.close()

    def output(self):
        self._log.flush()
        with open(self.log_path) as f:
            return f.read()


class Link:
    """Two namespaces and a linkemu between them. a2b, b2a and link are linkemu's SPECs
    (tools/linkemu/README.md); extra is more of its options (["--limit", "2000"], say)."""

    def __init__(self, linkemu, a2b="", b2a="", link="", seed=1, extra=(), logdir=None,
                 lifetime=600, share_a=None):
        """share_a: another Link whose end "a" this one shares (one sender, viewers on links
        of their own): its namespace is neither made nor deleted here, and this link's device
        there gets a name of its own."""
        global _count
        self.linkemu = linkemu
        with _lock:
            self.n = _count
            _count += 1
        self.ns = {e: f"{PREFIX}-{os.getpid()}-{self.n}-{e}" for e in "ab"}
        self._own = {"a": share_a is None, "b": True}
        if share_a is not None:
            self.ns["a"] = share_a.ns["a"]
        self._addr = {"a": f"{NET}.{self.n % 256}.1", "b": f"{NET}.{self.n % 256}.2"}
        self._own_logdir = logdir is None
        self.logdir = logdir or tempfile.mkdtemp(prefix="fc-linkns-")
        self.base = os.path.join(self.logdir, f"linkemu-{self.n}")
        self.sock = f"{self.base}.sock"
        self.args = [linkemu, "--ns-a", self.ns["a"], "--ns-b", self.ns["b"],
                     "--addr-a", f"{self._addr['a']}/24", "--addr-b", f"{self._addr['b']}/24",
                     "--control", self.sock, "--seed", str(seed), "--seconds", str(lifetime)]
        for opt, spec in (("--link", link), ("--a2b", a2b), ("--b2a", b2a)):
            if spec:
                self.args += [opt, spec]
        if share_a is not None:
            self.args += ["--dev-a", f"linkemu{self.n}"]
        self.args += list(extra)
        self.procs = []
        self.emu = None
        self.final = None  # linkemu's last JSON line, once stopped
        self._closed = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()  # raises if linkemu did not exit cleanly (a crash, a sanitizer)
        finally:
            self.close(keep_logs=exc_type is not None)
        return False

    def addr(self, end):
        """The IPv4 address of end "a" or "b"."""
        return self._addr[end]

    def start(self, timeout=5):
        """Makes the namespaces and starts linkemu; returns once its control socket answers
        (the devices are up by then). Raises RuntimeError with linkemu's words if it fails."""
        sweep_stale()
        _links.append(self)
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)):
            signal.signal(signal.SIGTERM, _on_sigterm)
        for e in "ab":
            if not self._own[e]:
                continue
            r = _ip("netns", "add", self.ns[e])
            if r.returncode != 0:
                raise RuntimeError(f"ip netns add {self.ns[e]}: {r.stderr.strip()}")
        self.emu = Proc("linkemu", self.args, f"{self.base}.log", f"{self.base}.jsonl")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.emu.p.poll() is not None:
                raise RuntimeError(f"linkemu exited with {self.emu.p.returncode}:\n"
                                   f"{self.emu.output()}")
            try:
                if self.control("show", timeout=1).startswith("ok"):
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"linkemu did not answer on {self.sock} within {timeout} s:\n"
                           f"{self.emu.output()}")

    def control(self, line, timeout=5):
        """Sends one command to linkemu's control socket; its one-line reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(line.encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode().strip()

    def set(self, direction, spec):
        """Changes the link now: direction "a2b", "b2a" or "both", spec as on the command line
        ("rate=5mbit", "delay=30ms loss=0"). Returns the new shape; ValueError if refused."""
        reply = self.control(f"{direction} {spec}")
        if not reply.startswith("ok"):
            raise ValueError(f"linkemu refused '{direction} {spec}': {reply}")
        return reply[3:]

    def stats(self):
        """linkemu's counters now (README.md, "Counters")."""
        return json.loads(self.control("stats"))

    def cmd(self, end, args):
        """args as a command line run in namespace end ("a" or "b")."""
        return ["ip", "netns", "exec", self.ns[end], *args]

    def run(self, end, args, timeout=20):
        """Runs args in namespace end to completion: (exit status, stdout + stderr)."""
        try:
            p = subprocess.run(_guarded(self.cmd(end, args)), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"{' '.join(args)} in {end} did not finish within "
                                 f"{timeout} s:\n{e.output or ''}") from None
        return p.returncode, p.stdout

    def run_json(self, end, args, timeout=20):
        """Runs args in namespace end, which prints JSON on stdout (iperf3 -J): the object.
        AssertionError with what it said if it fails."""
        try:
            p = subprocess.run(_guarded(self.cmd(end, args)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{' '.join(args)} in {end} did not finish within "
                                 f"{timeout} s") from None
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = None
        if p.returncode != 0 or out is None:
            raise AssertionError(f"{' '.join(args)} in {end} failed ({p.returncode}):\n"
                                 f"{p.stdout}{p.stderr}")
        return out

    def popen(self, end, args, name):
        """Starts args in namespace end, in the background: a Proc, killed at close()."""
        proc = Proc(name, self.cmd(end, args), os.path.join(self.logdir, f"{name}.log"))
        self.procs.append(proc)
        return proc

    def wait_listening(self, end, port, timeout=5):
        """Waits until a TCP socket listens on port in namespace end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, out = self.run(end, ["ss", "-Hltn", f"sport = :{port}"], timeout=5)
            if out.strip():
                return
            time.sleep(0.05)
        raise AssertionError(f"nothing listens on port {port} in {self.ns[end]} after "
                             f"{timeout} s")

    def stop(self, timeout=5):
        """Stops linkemu (SIGTERM); its last JSON line, the counters at exit."""
        if self.emu and self.emu.p.poll() is None:
            rc = self.emu.stop(timeout=timeout)
            if rc != 0:
                raise AssertionError(f"linkemu exited with {rc}:\n{self.emu.output()}")
        if self.final is None and self.emu:
            with open(f"{self.base}.jsonl") as f:
                lines = [l for l in f if l.strip()]
            self.final = json.loads(lines[-1]) if lines else None
        return self.final

    def output(self):
        """What linkemu has said on stderr."""
        return self.emu.output() if self.emu else ""

    def close(self, keep_logs=False):
        """Kills what was started through the link, stops linkemu, deletes both namespaces.
        Safe to call twice, and after a failed start."""
        if self._closed:
            return
        self._closed = True
        for proc in self.procs:
            proc.kill()
        if self.emu:
            try:
                self.stop()
            except (AssertionError, OSError, ValueError):
                pass
            self.emu.kill()
        for e in "ab":
            if self._own[e]:
                _ip("netns", "del", self.ns[e])
        if self in _links:
            _links.remove(self)
        if self._own_logdir and not keep_logs:
            shutil.rmtree(self.logdir, ignore_errors=True)
