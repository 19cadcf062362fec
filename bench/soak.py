#!/usr/bin/env python3
"""bench/soak.py: a long run that shows the sender neither leaks nor falls behind when its viewers
misbehave. Not part of tools/check (it takes minutes); its latest result is in docs/SOAK.md.

One sender streams the test pattern at --size and 30 fps on loopback to four headless viewers:

  - two behave;
  - one stalls: it is stopped (SIGSTOP) for --stall seconds, long enough for the sender to call it
    dead and drop it, then continued, after which it reconnects by itself; and again;
  - one is killed (SIGKILL, no BYE) and started again every --churn seconds.

Every 5 s it samples the sender's resident memory (VmRSS), open descriptors and threads. At the end
it compares the first and the last minute: memory must be flat (the pool and the per-connection
buffers are reused, not grown), descriptors and threads back where they were. It exits 1 if not.

Usage: bench/soak.py [--build DIR] [--minutes 10] [--size 1280x720]"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SAMPLE_S = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def sample(pid):
    return {
        "rss_kib": status(pid, "VmRSS"),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": status(pid, "Threads"),
    }


class Viewer:
    def __init__(self, build, port, tmp, name):
        self.args = [f"{build}/freshcam-view", "--headless", "--quiet", "--check-stamps",
                     f"127.0.0.1:{port}"]
        self.tmp, self.name, self.runs, self.p = tmp, name, 0, None
        self.sums = []

    def start(self):
        self.runs += 1
        self.path = os.path.join(self.tmp, f"{self.name}-{self.runs}.jsonl")
        self.p = subprocess.Popen(self.args + ["--stats-json", self.path],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def last(self):
        try:
            with open(self.path) as f:
                lines = [json.loads(l) for l in f if l.strip()]
        except (OSError, ValueError):
            return None
        return lines[-1] if lines else None

    def end(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            if sig == signal.SIGSTOP:
                return
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        if self.last():
            self.sums.append(self.last())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--stall", type=float, default=20, help="seconds the stalling viewer stops")
    ap.add_argument("--churn", type=float, default=30, help="seconds between viewer restarts")
    a = ap.parse_args()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="fc-soak-")
    slog = open(os.path.join(tmp, "sender.log"), "w")
    send = subprocess.Popen([f"{a.build}/freshcam-send", "--listen", f"127.0.0.1:{port}",
                             "--size", a.size, "--fps", "30", "--stats-json",
                             os.path.join(tmp, "sender.jsonl")], stdout=slog,
                            stderr=subprocess.STDOUT)
    time.sleep(0.5)
    good = [Viewer(a.build, port, tmp, f"good{i}") for i in range(2)]
    staller = Viewer(a.build, port, tmp, "staller")
    churner = Viewer(a.build, port, tmp, "churner")
    for v in good + [staller, churner]:
        v.start()
    samples = []
    start = time.monotonic()
    end = start + a.minutes * 60
    next_sample = start + 10  # after warm-up: every viewer connected, caches and pool filled
    next_churn = start + a.churn
    stalled_since, next_stall = None, start + a.stall
    churns = stalls = 0
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append((now - start, sample(send.pid)))
                next_sample += SAMPLE_S
            if now >= next_churn:
                churner.end(signal.SIGKILL)
                churner.start()
                churns += 1
                next_churn += a.churn
            if now >= next_stall:
                if stalled_since is None:
                    staller.p.send_signal(signal.SIGSTOP)
                    stalled_since = now
                else:
                    staller.p.send_signal(signal.SIGCONT)
                    stalled_since = None
                    stalls += 1
                next_stall += a.stall
            if send.poll() is not None:
                print("the sender exited during the soak", file=sys.stderr)
                return 1
            time.sleep(0.2)
    finally:
        if stalled_since is not None:
            staller.p.send_signal(signal.SIGCONT)
        for v in good + [staller, churner]:
            v.end()
        send.terminate()
        send.wait(timeout=10)
        slog.close()

    minute = [s for t, s in samples if t <= 70]
    last = [s for t, s in samples if t >= a.minutes * 60 - 60]
    rss_first = statistics.median(s["rss_kib"] for s in minute) / 1024
    rss_last = statistics.median(s["rss_kib"] for s in last) / 1024
    rss_max = max(s["rss_kib"] for _, s in samples) / 1024
    fds = [s["fds"] for _, s in samples]
    thr = [s["threads"] for _, s in samples]
    print(f"# soak: {a.minutes:g} min at {a.size} 30 fps, 4 viewers on loopback; "
          f"sender log and JSON in {tmp}")
    print(f"samples: {len(samples)} every {SAMPLE_S} s after a 10 s warm-up")
    print(f"sender RSS: first minute median {rss_first:.1f} MiB, last minute median "
          f"{rss_last:.1f} MiB, max {rss_max:.1f} MiB")
    print(f"sender descriptors: min {min(fds)} max {max(fds)} first {fds[0]} last {fds[-1]}")
    print(f"sender threads: min {min(thr)} max {max(thr)} first {thr[0]} last {thr[-1]}")
    print(f"stall cycles: {stalls}, viewer restarts: {churns}")
    for v in good + [staller, churner]:
        shown = sum(s["shown"] for s in v.sums)
        over = sum(s.get("stamp_over_budget", 0) for s in v.sums)
        fps = [s["shown_fps"] for s in v.sums]
        print(f"{v.name}: {v.runs} run(s), {shown} frames shown, {over} shown over budget, "
              f"shown fps per run median {statistics.median(fps) if fps else 0:.1f}")
    flat = rss_last <= rss_first * 1.05 + 1
    no_leak = fds[-1] <= fds[0] + 1 and thr[-1] <= thr[0] + 1
    print(f"verdict: memory {'flat' if flat else 'GROWING'}, descriptors and threads "
          f"{'back where they were' if no_leak else 'LEAKING'}")
    return 0 if flat and no_leak else 1


if __name__ == "__main__":
    sys.exit(main())
