#!/usr/bin/env python3
"""bench/freshcam.py: freshcam's own figures on loopback, the baseline the peer comparison
(issue 6) builds on. For each picture size it streams the test pattern at 30 fps to 1 and to 4
headless viewers and reports, as medians over --runs runs:

  - shown fps per viewer, and the true age of each shown frame from capture to decoded (p50, p99),
    read from the frame's stamp (same host, same clock: exact);
  - CPU time per frame of the sender (capture, encode, send to all viewers) and of one viewer
    (receive, check, decode), from /proc/PID/stat;
  - peak resident memory of each (VmHWM).

Usage: bench/freshcam.py [--build DIR] [--seconds N] [--runs N] [--sizes 640x480,1280x720]
Prints a Markdown table for docs/BENCHMARKS.md. It times things, so it is not part of
tools/check; run it on a quiet machine."""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_seconds, free_port, peak_rss_mib  # noqa: E402


def one_run(build, size, viewers, seconds, tmp):
    port = free_port()
    send = subprocess.Popen([f"{build}/freshcam-send", "--listen", f"127.0.0.1:{port}",
                             "--size", size, "--fps", "30", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    views = []
    for i in range(viewers):
        path = os.path.join(tmp, f"v{i}.jsonl")
        views.append((subprocess.Popen([f"{build}/freshcam-view", "--headless", "--quiet",
                                        f"127.0.0.1:{port}", "--check-stamps",
                                        "--stats-json", path],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                      path))
    time.sleep(1.0)  # warm up: connection, first frames, caches
    c_send0 = cpu_seconds(send.pid)
    c_view0 = cpu_seconds(views[0][0].pid)
    time.sleep(seconds)
    c_send = cpu_seconds(send.pid) - c_send0
    c_view = cpu_seconds(views[0][0].pid) - c_view0
    rss_send = peak_rss_mib(send.pid)
    rss_view = peak_rss_mib(views[0][0].pid)
    for p, _ in views:
        p.terminate()
    for p, _ in views:
        p.wait(timeout=10)
    send.terminate()
    send.wait(timeout=10)
    sums = []
    for _, path in views:
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        sums.append(lines[-1])
    frames = seconds * 30
    return {
        "fps": statistics.median(s["shown_fps"] for s in sums),
        "age_p50": statistics.median(s["true_age_ms_p50"] for s in sums),
        "age_p99": max(s["true_age_ms_p99"] for s in sums),
        "rejected": sum(s["rejected"] for s in sums),
        "send_cpu_ms": 1000 * c_send / frames,
        "view_cpu_ms": 1000 * c_view / frames,
        "send_rss": rss_send,
        "view_rss": rss_view,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in a.sizes.split(","):
            for viewers in (1, 4):
                runs = [one_run(a.build, size, viewers, a.seconds, tmp) for _ in range(a.runs)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((size, viewers, med))
                print(f"{size} x{viewers}: {med}", file=sys.stderr)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"{a.runs} runs of {a.seconds:g} s each, medians.\n")
    print("| size | viewers | shown fps | true age p50 | true age p99 | rejected | "
          "sender CPU/frame | viewer CPU/frame | sender RSS | viewer RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, viewers, m in rows:
        print(f"| {size} | {viewers} | {m['fps']:.1f} | {m['age_p50']:.1f} ms | "
              f"{m['age_p99']:.1f} ms | {m['rejected']:.0f} | {m['send_cpu_ms']:.2f} ms | "
              f"{m['view_cpu_ms']:.2f} ms | {m['send_rss']:.1f} MiB | {m['view_rss']:.1f} MiB |")


if __name__ == "__main__":
    main()
