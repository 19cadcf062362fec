"""Shared plumbing for the end-to-end tests: start freshcam-send and freshcam-view on loopback,
read their --stats-json lines, and always clean up. Standard library only.

Every process gets a hard time limit, so a hung binary fails its test instead of hanging CI.

A test that cannot run here raises Skip("why"): it prints "skipped: NAME: why" and counts as
neither a pass nor a failure. A script exits 1 when any test failed, 77 (ctest's skip) when every
test skipped, and 0 otherwise; the skips of a script that ran others stay in its output, where
tools/check finds and counts them (docs/STYLE.md point 9)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("build")
TMP = tempfile.mkdtemp(prefix="fc-e2e-")
_procs = []
_failures = []
SKIP = 77  # the exit status ctest reports as a skip (SKIP_RETURN_CODE in tests/CMakeLists.txt)


class Skip(Exception):
    """Raised by a test that cannot run here (no root, a tool missing); the message says why."""


def skip_all(why):
    """The whole script cannot run here: says why and exits 77, before any test has started."""
    print(f"skipped: {why}")
    print("0 passed, 0 failed, all skipped")
    sys.exit(SKIP)


def _cache(name):
    """A variable of the build's CMakeCache.txt ("" when unset or not a CMake build)."""
    try:
        with open(os.path.join(BIN, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


SANITIZE = _cache("FC_SANITIZE")  # "address", "thread" or "" (the build's -DFC_SANITIZE)


def sanitizer_runtime():
    """The shared sanitizer runtime of this build's compiler, or None in a plain build."""
    if not SANITIZE:
        return None
    if SANITIZE == "thread":
        # Measured on Debian 12: LD_PRELOAD=libclang_rt.tsan-x86_64.so /bin/true dies of SIGSEGV
        # at start, and so does a program built with -shared-libsan; only the static runtime
        # linked into freshcam's programs works.
        raise Skip("clang 14's shared TSan runtime crashes any program it is preloaded into "
                   "(SIGSEGV at start), so a foreign program cannot load the instrumented "
                   "library; freshcam's own programs run it under TSan (test_capture)")
    name = {"address": "asan", "thread": "tsan"}[SANITIZE]
    cc = _cache("CMAKE_C_COMPILER") or "clang"
    p = subprocess.run([cc, f"-print-file-name=libclang_rt.{name}-x86_64.so"],
                       stdout=subprocess.PIPE, text=True)
    path = p.stdout.strip()
    if p.returncode != 0 or not os.path.isabs(path) or not os.path.exists(path):
        raise AssertionError(f"no shared {name} runtime for {cc} ({path!r})")
    return path


def preload_env(lib, foreign, env=None):
    """The environment that preloads lib, a library of this build (tools/fakecam), into a program.

    In a sanitizer build the library is instrumented and has no runtime of its own: one of
    freshcam's programs (foreign=False) lends it the runtime linked into it; a foreign program
    (v4l2-ctl, ffmpeg, python) gets the compiler's shared runtime preloaded first, as the
    runtime must come first in the library list. Leaks are not looked for in foreign programs.
    Raises Skip where no shared runtime works (TSan, sanitizer_runtime)."""
    env = dict(os.environ if env is None else env)
    rt = sanitizer_runtime() if foreign else None
    env["LD_PRELOAD"] = f"{rt}:{lib}" if rt else lib
    if rt and SANITIZE == "address":
        env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, name, args, json_path=None, env=None):
        self.name = name
        self.json_path = json_path
        self.log_path = os.path.join(TMP, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.args = args
        _procs.append(self)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.name} did not finish within {timeout} s:\n{self.output()}")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.wait(timeout)

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stats(self):
        """All JSON lines written so far (the last one is the summary once it has exited). A
        line still being written (no newline yet) is left for the next call, so a test may poll
        this while the program runs."""
        if not self.json_path or not os.path.exists(self.json_path):
            return []
        out = []
        with open(self.json_path) as f:
            for line in f:
                if line.strip() and line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def summary(self):
        lines = self.stats()
        assert lines and lines[-1]["summary"], f"{self.name}: no summary line:\n{self.output()}"
        return lines[-1]


def sender(*extra, name="send", port=None, json=True):
    args = [os.path.join(BIN, "freshcam-send")]
    if port is not None:
        args += ["--listen", f"127.0.0.1:{port}"]
    path = os.path.join(TMP, f"{name}.jsonl") if json else None
    if path:
        args += ["--stats-json", path]
    return Proc(name, args + list(extra), path)


def viewer(port, *extra, name="view", json=True):
    args = [os.path.join(BIN, "freshcam-view"), "--headless", f"127.0.0.1:{port}"]
    path = os.path.join(TMP, f"{name}.jsonl") if json else None
    if path:
        args += ["--stats-json", path]
    return Proc(name, args + list(extra), path)


def run(args, timeout=20):
    """Runs a command to the end; returns (exit status, combined output)."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       text=True)
    return p.returncode, p.stdout


def listening(port):
    """Whether a TCP socket of this network namespace listens on port (any address), read from
    /proc/net/tcp and tcp6: no connection is made, so the server counts no probe as a peer."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    local, st = line.split()[1], line.split()[3]
                    if st == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def wait_listening(port, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if listening(port):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


def check(cond, what, *procs):
    """Records a failed expectation with the processes' output, and goes on."""
    if cond:
        print(f"ok: {what}")
        return True
    detail = "".join(f"\n--- {p.name} ({' '.join(p.args)}):\n{p.output()}" for p in procs)
    _failures.append(what)
    print(f"FAIL: {what}{detail}")
    return False


def cpu_waited_us():
    """Microseconds that some task of this machine has waited for a CPU since boot (the kernel's
    pressure stall information, /proc/pressure/cpu "some total"), or None where it is not kept."""
    try:
        with open("/proc/pressure/cpu") as f:
            for line in f:
                if line.startswith("some "):
                    return int(line.split("total=")[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


CONTENDED = 0.5  # the share of a test's time with a task waiting for a CPU that voids its speed
_test_start = (time.monotonic(), cpu_waited_us())  # reset by main() as each test starts


def contention():
    """The share of the time since the current test started during which some task of the
    machine waited for a CPU (0..1), or None where the kernel does not say."""
    t0, w0 = _test_start
    w1 = cpu_waited_us()
    span = time.monotonic() - t0
    if w0 is None or w1 is None or span <= 0:
        return None
    return min(1.0, (w1 - w0) / 1e6 / span)


def check_speed(cond, what, *procs):
    """A check of speed: a rate floor (fps) or a time limit (stops within 1 s). A sanitizer build
    runs several times slower, on a machine shared with other builds, so there it is shown but
    not counted ("unchecked: ..."); so it is on a machine whose CPUs were contended for half the
    test's time or more (other builds or tests beside it: tools/check runs two at a time), where
    the rate is the machine's. Elsewhere the plain build checks it. The behaviour behind it
    (frames shown, the program stops) is checked in every build by plain fc.check calls."""
    if SANITIZE and not cond:
        print(f"unchecked (speed, {SANITIZE} sanitizer build): {what}")
        return True
    busy = contention()
    if busy is not None and busy >= CONTENDED and not cond:
        print(f"unchecked (speed, a task waited for a CPU {busy:.0%} of this test's time): {what}")
        return True
    return check(cond, what, *procs)


def main(*tests):
    """Runs the test functions, kills anything left over, and exits non-zero on any failure."""
    global _test_start
    passed = failed = skipped = 0
    try:
        for t in tests:
            print(f"== {t.__name__}: {t.__doc__.strip() if t.__doc__ else ''}", flush=True)
            before = len(_failures)
            _test_start = (time.monotonic(), cpu_waited_us())
            try:
                t()
            except Skip as e:
                if len(_failures) == before:
                    print(f"skipped: {t.__name__}: {e}")
                    skipped += 1
                    continue
                # A test that failed before it found it could not go on has failed.
            except Exception as e:  # an assertion or a crash in the test itself
                _failures.append(f"{t.__name__}: {e!r}")
                print(f"FAIL: {t.__name__}: {e}")
            if len(_failures) > before:
                failed += 1
            else:
                passed += 1
    finally:
        for p in _procs:
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()
    if failed:
        print(f"logs kept in {TMP}")
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        sys.exit(1)
    sys.exit(SKIP if skipped and not passed else 0)
