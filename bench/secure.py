#!/usr/bin/env python3
"""bench/secure.py: what a passphrase costs. Streams the test pattern at 1280x720, 30 fps, to one
headless viewer on loopback, with and without FRESHCAM_PASSPHRASE (runs interleaved, so that a
busy machine hurts both alike), and reports as medians over --runs runs:

  - CPU time per frame of the sender and of the viewer, from /proc/PID/stat;
  - the true age of each shown frame from capture to decoded (p50, p99), read from its stamp;
  - shown fps, and the start-up cost of the passphrase (Argon2id, once per process).

Usage: bench/secure.py [--build DIR] [--seconds N] [--runs N] [--size WxH]
Prints a Markdown table for docs/BENCHMARKS.md. It times things, so it is not part of
tools/check; run it on a quiet machine."""
import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_seconds, free_port  # noqa: E402

PASSPHRASE = "bench: a passphrase of a sensible length"


def env_for(secure):
    env = dict(os.environ)
    env.pop("FRESHCAM_PASSPHRASE", None)
    if secure:
        env["FRESHCAM_PASSPHRASE"] = PASSPHRASE
    return env


def startup_seconds(build, secure):
    """How long freshcam-send takes to start listening: the passphrase's key is derived first."""
    port = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([f"{build}/freshcam-send", "--listen", f"127.0.0.1:{port}",
                          "--size", "640x480", "--quiet"], env=env_for(secure),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - t0 < 30:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return time.monotonic() - t0
            time.sleep(0.005)
        return float("nan")
    finally:
        p.terminate()
        p.wait(timeout=10)


def one_run(build, size, seconds, secure, tmp):
    port = free_port()
    env = env_for(secure)
    send = subprocess.Popen([f"{build}/freshcam-send", "--listen", f"127.0.0.1:{port}",
                             "--size", size, "--fps", "30", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    path = os.path.join(tmp, "view.jsonl")
    view = subprocess.Popen([f"{build}/freshcam-view", "--headless", "--quiet",
                             f"127.0.0.1:{port}", "--check-stamps", "--stats-json", path],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # warm up: key derivation, connection, first frames, caches
    c_send0, c_view0 = cpu_seconds(send.pid), cpu_seconds(view.pid)
    time.sleep(seconds)
    c_send, c_view = cpu_seconds(send.pid) - c_send0, cpu_seconds(view.pid) - c_view0
    view.terminate()
    view.wait(timeout=10)
    send.terminate()
    send.wait(timeout=10)
    with open(path) as f:
        sm = [json.loads(l) for l in f if l.strip()][-1]
    frames = seconds * 30
    return {
        "fps": sm["shown_fps"],
        "age_p50": sm["true_age_ms_p50"],
        "age_p99": sm["true_age_ms_p99"],
        "send_cpu_ms": 1000 * c_send / frames,
        "view_cpu_ms": 1000 * c_view / frames,
        "kb_per_frame": sm.get("bytes", 0) / 1024 / max(sm.get("received", 1), 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="1280x720")
    a = ap.parse_args()
    results = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.runs):
            for secure in (False, True):
                r = one_run(a.build, a.size, a.seconds, secure, tmp)
                results[secure].append(r)
                print(f"{'passphrase' if secure else 'plain     '}: {r}", file=sys.stderr)
    start = {s: statistics.median(startup_seconds(a.build, s) for _ in range(3))
             for s in (False, True)}
    med = {s: {k: statistics.median(r[k] for r in results[s]) for k in results[s][0]}
           for s in (False, True)}
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"{a.size} at 30 fps, one viewer, {a.runs} runs of {a.seconds:g} s each, medians.\n")
    print("| stream | shown fps | true age p50 | true age p99 | sender CPU/frame | "
          "viewer CPU/frame | sender start-up |")
    print("|---|---|---|---|---|---|---|")
    for s in (False, True):
        m = med[s]
        print(f"| {'passphrase' if s else 'plain'} | {m['fps']:.1f} | {m['age_p50']:.2f} ms | "
              f"{m['age_p99']:.2f} ms | {m['send_cpu_ms']:.2f} ms | {m['view_cpu_ms']:.2f} ms | "
              f"{1000 * start[s]:.0f} ms |")
    p, s = med[False], med[True]
    cpu_p = p["send_cpu_ms"] + p["view_cpu_ms"]
    cpu_s = s["send_cpu_ms"] + s["view_cpu_ms"]
    print(f"\nWith a passphrase: CPU per frame (sender + viewer) {cpu_s - cpu_p:+.2f} ms "
          f"({100 * (cpu_s - cpu_p) / cpu_p:+.1f}%), age p50 {s['age_p50'] - p['age_p50']:+.2f} ms, "
          f"p99 {s['age_p99'] - p['age_p99']:+.2f} ms.")


if __name__ == "__main__":
    main()
