#!/usr/bin/env python3
"""bench/parts.py: frames in parts (issue 19) against whole frames and against the JPEG limit, in
one run. freshcam-send (the test pattern, quality 80) at 30 fps on loopback to one headless
freshcam-view --check-stamps --adapt off (the full picture, the one sent in parts), with
--parts on and --parts off interleaved, RUNS runs each, per size; tjbench's encode plus decode of
the same picture (fc-benchframes ppm; planar YUV both ways, accurate DCT, as bench/peers.py).

Per run: capture-to-decoded true age p50 and p99 (the viewer's summary, from each shown frame's
stamp), frames shown per second, CPU ms per frame of sender and viewer over a window. Prints
the medians over runs and the ratios the issue asks for: age p50 and p99 over tjbench's
encode + decode, and CPU per frame with parts over without. Say the load with the numbers: the
machine is shared. Python standard library only; it times things: never part of tools/check.

Usage: bench/parts.py --build DIR [--runs N] [--seconds S] [--sizes 1280x720,1920x1080]"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import peers  # noqa: E402


def one_run(build, size, parts, seconds):
    port = bl.free_port()
    send = subprocess.Popen([f"{build}/freshcam-send", "--listen", f"127.0.0.1:{port}", "--size",
                             size, "--fps", "30", "--quality", str(peers.QUALITY), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    view = None
    try:
        bl.wait_port(port, 10)
        view = subprocess.Popen([f"{build}/freshcam-view", "--headless", "--quiet",
                                 f"127.0.0.1:{port}", "--check-stamps", "--adapt", "off",
                                 "--parts", parts, "--stats-json", "-"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        counter = peers.Counter(view.stdout, peers.parse_fc_json)
        time.sleep(1.5)
        t0, t1, cs, cr = peers.measure_window([send.pid], [view.pid], seconds)
    finally:
        if view:
            view.terminate()
            view.wait(10)
        bl.stop([send])
    time.sleep(0.3)
    fps, _ = counter.rate(t0, t1)
    frames = fps * (t1 - t0)
    sm = next((json.loads(l) for l in counter.lines if '"summary":true' in l.replace(" ", "")),
              {})
    return {"fps": fps, "p50": sm.get("true_age_ms_p50", float("nan")),
            "p99": sm.get("true_age_ms_p99", float("nan")),
            "decoded_in_parts": sm.get("parts_decoded", 0) / max(sm.get("shown", 0), 1),
            "send_ms": 1000 * cs / frames if frames else float("nan"),
            "recv_ms": 1000 * cr / frames if frames else float("nan")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    a = ap.parse_args()
    tmp = os.path.join(a.build, "bench-parts")
    os.makedirs(tmp, exist_ok=True)
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    for size in a.sizes.split(","):
        ppm = os.path.join(tmp, f"{size}.ppm")
        subprocess.run([f"{a.build}/bench/fc-benchframes", "ppm", "--size", size, "--out", ppm],
                       check=True, timeout=60)
        tj = peers.tjbench(ppm, size, 1.0)
        limit = tj["enc_ms"] + tj["dec_ms"]
        runs = {"on": [], "off": []}
        for _ in range(a.runs):
            for parts in ("on", "off"):
                runs[parts].append(one_run(a.build, size, parts, a.seconds))
        med = {p: {k: bl.median([r[k] for r in rs]) for k in rs[0]} for p, rs in runs.items()}
        print(f"{size}: tjbench encode {tj['enc_ms']:.2f} + decode {tj['dec_ms']:.2f} = "
              f"{limit:.2f} ms (load {os.getloadavg()[0]:.2f})")
        for p in ("on", "off"):
            m = med[p]
            print(f"  parts {p:3}: {m['fps']:.1f} fps, true age p50 {m['p50']:.2f} ms "
                  f"({m['p50'] / limit:.2f} x limit), p99 {m['p99']:.2f} ms "
                  f"({m['p99'] / limit:.2f} x), CPU/frame sender {m['send_ms']:.2f} ms viewer "
                  f"{m['recv_ms']:.2f} ms, {100 * m['decoded_in_parts']:.0f}% decoded in parts")
        print(f"  parts on/off: CPU/frame sender {med['on']['send_ms'] / med['off']['send_ms']:.2f}"
              f", viewer {med['on']['recv_ms'] / med['off']['recv_ms']:.2f}", flush=True)


if __name__ == "__main__":
    main()
