#!/usr/bin/env python3
"""bench/capture.py: freshcam-send against uStreamer on the fake camera (tools/fakecam), 1280x720
at 30 fps, in YUYV (each encodes) and in MJPEG (each passes the camera's JPEG through), side by
side in one run, interleaved, as medians over --runs runs:

  - sender CPU time per frame (/proc/PID/task/*/stat over the measured window, less the fake
    camera's own thread, which runs inside the sender; frames = 30/s);
  - capture to decoded at a client, from the stamp in each frame (the fake camera stamps every
    frame with its buffer timestamp, the start of its exposure, so this includes the camera's
    one-frame readout, as a real UVC camera's would): freshcam-view --check-stamps, and for
    uStreamer an ffmpeg client reading /stream and decoding to grey, whose frames a small reader
    here stamps on arrival (same host, same CLOCK_MONOTONIC);
  - freshcam-send's own capture-to-publish time (its --stats-json).

Usage: bench/capture.py [--build DIR] [--seconds N] [--runs N]
It times things, so it is not part of tools/check."""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

W, H, FPS = 1280, 720, 30


def cpu_seconds(pid):
    """CPU time of the process less the fake camera's own producer thread ("fakecam"), which
    runs inside whichever program opens the camera and is no part of that program's cost."""
    return bl.cpu_seconds(pid, ("fakecam",))


free_port, wait_port = bl.free_port, bl.wait_port


def read_stamp(gray, w, h):
    """Mirrors common/stamp.c: 8x8 cells, 128 bits, magic 0xFC5A, seq, capture_ns, CRC-16."""
    cols = w // 8
    bits = []
    for i in range(128):
        cy, cx = (i // cols) * 8, (i % cols) * 8
        total = sum(gray[(cy + 2 + dy) * w + cx + 2 + dx] for dy in range(4) for dx in range(4))
        bits.append(1 if total / 16 >= 128 else 0)
    data = bytes(int("".join(map(str, bits[k:k + 8])), 2) for k in range(0, 128, 8))
    crc = 0xFFFF
    for b in data[:14]:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    if data[:2] != b"\xfc\x5a" or crc != int.from_bytes(data[14:16], "big"):
        return None
    return int.from_bytes(data[6:14], "big")


def cam_env(build):
    return dict(os.environ, LD_PRELOAD=os.path.join(build, "tools/fakecam/libfakecam.so"))


def run_freshcam(build, fmt, seconds, tmp):
    port = free_port()
    sj, vj = os.path.join(tmp, "s.jsonl"), os.path.join(tmp, "v.jsonl")
    send = subprocess.Popen([f"{build}/freshcam-send", "--device", "/dev/video0", "--format", fmt,
                             "--size", f"{W}x{H}", "--fps", str(FPS), "--quiet",
                             "--listen", f"127.0.0.1:{port}", "--stats-json", sj],
                            env=cam_env(build), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port)
    view = subprocess.Popen([f"{build}/freshcam-view", "--headless", "--quiet", "--check-stamps",
                             f"127.0.0.1:{port}", "--stats-json", vj],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    c0 = cpu_seconds(send.pid)
    time.sleep(seconds)
    cpu = cpu_seconds(send.pid) - c0
    view.terminate()
    view.wait(10)
    send.terminate()
    send.wait(10)
    with open(vj) as f:
        v = [json.loads(l) for l in f if l.strip()][-1]
    with open(sj) as f:
        s = [json.loads(l) for l in f if l.strip() and not json.loads(l)["summary"]]
    return {"cpu_ms": 1000 * cpu / (seconds * FPS), "age_p50": v["true_age_ms_p50"],
            "age_p99": v["true_age_ms_p99"], "fps": v["shown_fps"],
            "publish_p50": statistics.median(l["publish_ms_p50"] for l in s[1:])}


def run_ustreamer(build, fmt, seconds, tmp):
    port = free_port()
    args = ["ustreamer", "--device", "/dev/video0", "--resolution", f"{W}x{H}",
            "--desired-fps", str(FPS), "--host", "127.0.0.1", "--port", str(port),
            "--quality", "80", "--format", "YUYV" if fmt == "yuyv" else "MJPEG"]
    if fmt == "mjpeg":
        args += ["--encoder", "HW"]
    us = subprocess.Popen(args, env=cam_env(build), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    wait_port(port)
    # One decoding thread and low_delay: frame threading would hold frames back and charge
    # the client's own delay to uStreamer.
    client = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-threads", "1", "-flags",
                               "low_delay", "-fflags", "nobuffer",
                               "-probesize", "32", "-analyzeduration", "0", "-f", "mpjpeg",
                               "-i", f"http://127.0.0.1:{port}/stream", "-f", "rawvideo",
                               "-pix_fmt", "gray", "-"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    ages = []
    frames = [0]
    stop = threading.Event()

    def reader():
        size = W * H
        while not stop.is_set():
            buf = client.stdout.read(size)
            if len(buf) < size:
                return
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            frames[0] += 1
            if frames[0] % 3 == 0:  # the pure-Python stamp reader is slow: every third frame
                cap = read_stamp(buf, W, H)
                if cap:
                    ages.append((now - cap) / 1e6)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(1.5)
    ages.clear()
    c0 = cpu_seconds(us.pid)
    time.sleep(seconds)
    cpu = cpu_seconds(us.pid) - c0
    stop.set()
    client.kill()  # it may be blocked writing to the pipe nobody reads any more
    us.terminate()
    client.wait(10)
    us.wait(10)
    ages.sort()
    return {"cpu_ms": 1000 * cpu / (seconds * FPS),
            "age_p50": ages[len(ages) // 2] if ages else float("nan"),
            "age_p99": ages[int(len(ages) * 0.99)] if ages else float("nan"),
            "fps": float("nan"), "publish_p50": float("nan")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(a.runs):
            for fmt in ("yuyv", "mjpeg"):
                for name, fn in (("freshcam", run_freshcam), ("ustreamer", run_ustreamer)):
                    r = fn(a.build, fmt, a.seconds, tmp)
                    print(f"run {run} {fmt} {name}: {r}", file=sys.stderr)
                    results.setdefault((fmt, name), []).append(r)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; fake camera {W}x{H} at {FPS} "
          f"fps; {a.runs} interleaved runs of {a.seconds:g} s, medians.\n")
    print("| format | streamer | sender CPU/frame | capture→decoded p50 | p99 | "
          "capture→publish p50 | CPU ratio freshcam/uStreamer |")
    print("|---|---|---|---|---|---|---|")
    for fmt in ("yuyv", "mjpeg"):
        med = {n: {k: statistics.median(r[k] for r in results[(fmt, n)])
                   for k in results[(fmt, n)][0]} for n in ("freshcam", "ustreamer")}
        ratio = med["freshcam"]["cpu_ms"] / med["ustreamer"]["cpu_ms"]
        for n in ("freshcam", "ustreamer"):
            m = med[n]
            pub = f"{m['publish_p50']:.1f} ms" if n == "freshcam" else "n/a"
            print(f"| {fmt} | {n} | {m['cpu_ms']:.2f} ms | {m['age_p50']:.1f} ms | "
                  f"{m['age_p99']:.1f} ms | {pub} | {ratio:.2f} |" if n == "freshcam" else
                  f"| {fmt} | {n} | {m['cpu_ms']:.2f} ms | {m['age_p50']:.1f} ms | "
                  f"{m['age_p99']:.1f} ms | {pub} | |")


if __name__ == "__main__":
    main()
