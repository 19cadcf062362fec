#!/usr/bin/env python3
"""bench/parts.py: what frames in parts (issue 19, docs/PROTOCOL.md section 14) save the sender's
side of a frame's age, next to tjbench's encode and decode of the same frames.

For each picture size, interleaved --runs times, freshcam-send (test pattern, 30 fps, quality 80,
its --encoders default) with --parts on and --parts off, each streamed to the small viewer of
tests/e2e/test_parts.py (it takes parts and the full picture always, on loopback) for --seconds.
Per frame it takes the age at the last byte in: this host's CLOCK_MONOTONIC when the frame's
last message was read, less its capture time (the frame's send_ns - age_ns: on one host the
sender's clock is this one). That is capture to last byte: encode, sending and reading, without
the viewer's decode (freshcam-view's, measured with it: issue 19, viewer side). It also takes
the sender's CPU per frame (/proc, user + system, over the frames sent) and runs tjbench on the
first frame of the run (decoded by djpeg to a PPM): compress from YUV plus decompress to YUV,
the serial sum a frame's age sat on before parts.

Prints a Markdown table: per size and mode, medians over the runs of each run's p50 and p99 of
the age at the last byte, its p50 over tjbench's encode + decode, and CPU ms per frame.

Usage: bench/parts.py [--build DIR] [--runs N] [--seconds S] [--sizes 1280x720,1920x1080]
Needs djpeg and tjbench (apt-get install libjpeg-turbo-progs). It times things, so it is not
part of tools/check; run it on a quiet machine and say the load."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The test's viewer first, with bench/ off the path: bench/http.py would stand in for the
# standard library's http, which the test's imports need.
_saved = sys.path[:]
sys.path = [os.path.join(HERE, "..", "tests", "e2e")] + [
    p for p in sys.path if os.path.abspath(p or ".") != HERE]
import test_parts  # noqa: E402

sys.path = [HERE] + _saved
import benchlib  # noqa: E402
import peers  # noqa: E402


def one_run(build, size, parts, seconds):
    """(ages in ms at the last byte, CPU ms per frame, the first frame's JPEG)."""
    port = benchlib.free_port()
    send = subprocess.Popen([os.path.join(build, "freshcam-send"), "--listen",
                             f"127.0.0.1:{port}", "--size", size, "--fps", "30", "--quiet",
                             "--parts", "on" if parts else "off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        benchlib.wait_listening(port)
        v = test_parts.PartsViewer(port)
        ages = []
        cpu0 = None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = v.peer.recv(max(0.0, end - time.monotonic()))
            if m is None:
                break
            n = len(v.frames)
            if not v.take(m):
                break
            if len(v.frames) > n:
                f = v.frames[-1]
                if cpu0 is None:  # from the first frame on: the start-up is not a frame's
                    cpu0, first = benchlib.cpu_seconds(send.pid), len(v.frames)
                else:
                    ages.append((time.monotonic_ns() - (f["send_ns"] - f["age"])) / 1e6)
        cpu = benchlib.cpu_seconds(send.pid) - (cpu0 or 0)
        frames = len(v.frames) - (first if cpu0 is not None else 0)
        v.close()
        if v.errors:
            raise RuntimeError(f"the order rules broke: {v.errors[:3]}")
        return ages, 1000 * cpu / max(frames, 1), v.frames[0]["jpeg"] if v.frames else None
    finally:
        benchlib.stop([send])


def limit(jpeg, size, tmp):
    """tjbench's encode + decode of this frame, ms."""
    ppm = os.path.join(tmp, f"{size}.ppm")
    with open(ppm, "wb") as f:
        f.write(subprocess.run(["djpeg", "-pnm"], input=jpeg, stdout=subprocess.PIPE,
                               check=True, timeout=30).stdout)
    tj = peers.tjbench(ppm, size, 1)
    return tj["enc_ms"] + tj["dec_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build", "gcc"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in a.sizes.split(","):
            got = {True: [], False: []}
            tj = []
            for _ in range(a.runs):
                for parts in (True, False):
                    ages, cpu, jpeg = one_run(a.build, size, parts, a.seconds)
                    ages.sort()
                    got[parts].append((benchlib.quantile(ages, 0.5),
                                       benchlib.quantile(ages, 0.99), cpu))
                    if jpeg and parts:
                        tj.append(limit(jpeg, size, tmp))
            lim = statistics.median(tj)
            for parts in (True, False):
                p50 = statistics.median(r[0] for r in got[parts])
                p99 = statistics.median(r[1] for r in got[parts])
                cpu = statistics.median(r[2] for r in got[parts])
                rows.append(f"| {size} | {'on' if parts else 'off'} | {p50:.2f} | {p99:.2f} | "
                            f"{lim:.2f} | {p50 / lim:.2f} | {p99 / lim:.2f} | {cpu:.2f} |")
    print(f"{benchlib.machine()}; load {os.getloadavg()[0]:.2f}; {a.runs} runs of "
          f"{a.seconds:.0f} s each way, interleaved\n")
    print("| size | --parts | age at last byte p50 ms | p99 ms | tjbench enc+dec ms | "
          "p50 / tjbench | p99 / tjbench | sender CPU ms/frame |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
