#!/usr/bin/env python3
"""bench/viewer.py: what showing a frame costs the viewer, per frame, next to libjpeg-turbo's own
tjbench on the same JPEGs. For each picture size it writes a few test-pattern frames (quality 80,
4:2:0, as freshcam-send makes them), then, interleaved, --runs times:

  - tjbench: JPEG to YUV planes (-yuv, "Decomp to YUV") and JPEG to BGRX, on one of the frames;
  - the viewer's decode alone (fc_decoder, what a --headless viewer does per frame);
  - under Xvfb, with a window: decode to planes + IYUV texture upload + present (the viewer's
    path, viewer/show/display.c), and decode to BGRX (libjpeg-turbo converts the colour) + RGB888
    texture upload + present (the alternative), with SDL's OpenGL renderer (which on a machine
    without a GPU is Mesa's llvmpipe: the CPU) and with its software renderer. Without a GPU the
    viewer picks the software renderer (display.c, gl_on_cpu), so "planes, software" is what it
    does here; with a GPU it keeps OpenGL, whose shader converts the colour on the GPU.

The timing is done by build/.../viewer_draw (bench/viewer_draw.c), which uses the viewer's
decoder and the same SDL calls as its window. Prints Markdown tables (medians over the runs of
each run's median per frame) for docs/BENCHMARKS.md.

Usage: bench/viewer.py [--build DIR] [--runs N] [--seconds S] [--sizes 640x480,1280x720]
Needs Xvfb and tjbench (apt-get install xvfb libjpeg-turbo-progs). It times things, so it is not
part of tools/check; run it on a quiet machine."""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import xvfb  # noqa: E402  (tests/e2e/xvfb.py: shared with the window's test)

FRAMES = 8
WINDOW_MODES = [("planes", "opengl"), ("bgrx", "opengl"), ("planes", "software"),
                ("bgrx", "software")]


def start_xvfb():
    try:
        return xvfb.start("2048x1280x24")
    except RuntimeError:
        sys.exit("bench/viewer.py: Xvfb did not start")


def tjbench_ms(jpeg, yuv):
    """Milliseconds per frame from tjbench's frame rate: to YUV planes, or to BGRX."""
    args = ["tjbench", jpeg, "-benchtime", "1", "-warmup", "0.3", "-nowrite"]
    args += ["-yuv"] if yuv else ["-bgrx"]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=60).stdout
    key = "Decomp to YUV" if yuv else "Decompress"
    m = re.search(re.escape(key) + r"\s+-->\s+Frame rate:\s+([\d.]+) fps", out)
    if not m:
        sys.exit(f"bench/viewer.py: cannot read tjbench's output:\n{out}")
    return 1000.0 / float(m.group(1))


def draw(build, mode, seconds, files, env):
    out = subprocess.run([os.path.join(build, "viewer_draw"), "draw", mode, str(seconds)] + files,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         timeout=120)
    if out.returncode != 0:
        sys.exit(f"bench/viewer.py: viewer_draw {mode} failed: {out.stderr}")
    return json.loads(out.stdout)


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    a = ap.parse_args()
    for tool in ("Xvfb", "tjbench"):
        if not shutil.which(tool):
            sys.exit(f"bench/viewer.py: {tool} not found (apt-get install xvfb "
                     "libjpeg-turbo-progs)")
    sizes = a.sizes.split(",")
    xvfb, display = start_xvfb()
    results = {s: {"tj_yuv": [], "tj_bgrx": [], "decode": [],
                   **{f"{m}/{r}": [] for m, r in WINDOW_MODES}} for s in sizes}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            files = {}
            for size in sizes:
                d = os.path.join(tmp, size)
                os.mkdir(d)
                subprocess.run([os.path.join(a.build, "viewer_draw"), "frames", size,
                                str(FRAMES), d], check=True, timeout=120)
                files[size] = sorted(os.path.join(d, f) for f in os.listdir(d))
            headless = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
            for run in range(a.runs):
                for size in sizes:
                    res = results[size]
                    jpeg = files[size][run % FRAMES]
                    res["tj_yuv"].append(tjbench_ms(jpeg, True))
                    res["decode"].append(draw(a.build, "decode", a.seconds, files[size],
                                              headless))
                    for mode, renderer in WINDOW_MODES:
                        env = dict(os.environ, DISPLAY=display, SDL_RENDER_DRIVER=renderer)
                        res[f"{mode}/{renderer}"].append(
                            draw(a.build, mode, a.seconds, files[size], env))
                    res["tj_bgrx"].append(tjbench_ms(jpeg, False))
                    print(f"run {run + 1}/{a.runs} {size}: tjbench yuv "
                          f"{res['tj_yuv'][-1]:.2f} ms, decode {res['decode'][-1]['decode_ms']}"
                          f" ms, planes/opengl {res['planes/opengl'][-1]['total_ms']} ms",
                          file=sys.stderr)
    finally:
        xvfb.terminate()
        xvfb.wait(10)

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"{a.runs} interleaved runs of {a.seconds:g} s per mode, medians of each run's "
          f"median per frame.\n")
    print("| size | tjbench JPEG→YUV | viewer, headless: decode | viewer, window: decode + "
          "upload + present | of which present |")
    print("|---|---|---|---|---|")
    for size in sizes:
        r = results[size]
        print(f"| {size} | {statistics.median(r['tj_yuv']):.2f} ms | "
              f"{med(r['decode'], 'decode_ms'):.2f} ms | "
              f"{med(r['planes/software'], 'total_ms'):.2f} ms | "
              f"{med(r['planes/software'], 'present_ms'):.2f} ms |")
    print("\n| size | path | renderer | decode | upload | present | total | total p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        r = results[size]
        for mode, renderer in WINDOW_MODES:
            runs = r[f"{mode}/{renderer}"]
            name = "planes → IYUV" if mode == "planes" else "BGRX → RGB888"
            print(f"| {size} | {name} | {renderer} | {med(runs, 'decode_ms'):.2f} ms | "
                  f"{med(runs, 'upload_ms'):.2f} ms | {med(runs, 'present_ms'):.2f} ms | "
                  f"{med(runs, 'total_ms'):.2f} ms | {med(runs, 'total_ms_p95'):.2f} ms |")
        print(f"| {size} | tjbench JPEG→BGRX | | {statistics.median(r['tj_bgrx']):.2f} ms | "
              f"| | | |")


if __name__ == "__main__":
    main()
