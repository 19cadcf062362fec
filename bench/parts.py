#!/usr/bin/env python3
"""bench/parts.py: frames in parts (issue 19) against whole frames, against the JPEG limit and
against GStreamer and ffmpeg, in one run. freshcam-send (the test pattern, quality 80) at 30 fps
on loopback to one headless freshcam-view --check-stamps --adapt off (the full picture, the one
sent in parts), with --parts on and --parts off; GStreamer and ffmpeg as bench/peers.py runs
them live (the same pattern from fc-benchframes at 30 fps through their JPEG encoder, TCP and
decoder: serial, they take no parts); all four interleaved, RUNS runs each, per size; and in
each run tjbench's encode plus decode of the same picture (planar YUV both ways, accurate DCT,
as bench/peers.py).

Per run: capture-to-decoded true age p50 and p99 (freshcam: the viewer's summary, from each
shown frame's stamp; the peers: fc-benchframes ages on their decoded frames), frames shown per
second, CPU ms per frame of sender and receiver over a window, from each thread's scheduler
runtime (benchlib.cpu_exact_of: the 10 ms ticks of /proc's utime cannot tell 5% apart in a few
seconds). Prints the medians over runs and the ratios the issue asks for: age p50 and p99 over
tjbench's encode + decode, and CPU per frame with parts over without. Say the load with the
numbers: the machine is shared. Python standard library only; it times things: never part of
tools/check.

With --tbf RATE (50mbit) freshcam-send and freshcam-view run in two network namespaces joined by
a veth whose sender side the kernel's TBF caps at RATE (tests/e2e/test_tbf.py's link: burst 16
KB, 50 ms of queue; namespaces fc-tbf-hparts-PID-s and -v), parts on and off only, and the age
is set against the serial sum a frame sent whole takes: tjbench's encode, its bytes at RATE,
tjbench's decode. Needs root.

Usage: bench/parts.py --build DIR [--runs N] [--seconds S] [--sizes 1280x720,1920x1080]
                      [--no-peers] [--tbf 50mbit]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
import peers  # noqa: E402


def tbf_link():
    """tests/e2e/test_tbf.py's link helpers, its namespaces named for this bench. Imported with
    bench/ off the path: bench/http.py would stand in for the standard library's http."""
    saved = sys.path[:]
    sys.path = [os.path.join(HERE, "..", "tests", "e2e")] + [
        p for p in sys.path if os.path.abspath(p or ".") != HERE]
    try:
        import test_tbf
    finally:
        sys.path = saved
    test_tbf.NS_SEND = f"fc-tbf-hparts-{os.getpid()}-s"
    test_tbf.NS_VIEW = f"fc-tbf-hparts-{os.getpid()}-v"
    return test_tbf


def wait_listening_in(link, port, timeout=10):
    """Waits until the sender listens on port inside its namespace."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = subprocess.run(link.in_ns(link.NS_SEND, ["ss", "-Hltn", f"sport = :{port}"]),
                           capture_output=True, text=True, timeout=10)
        if r.stdout.strip():
            return
        time.sleep(0.05)
    raise RuntimeError(f"freshcam-send does not listen on {port} in {link.NS_SEND}")


def fc_run(build, size, parts, seconds, link=None):
    """freshcam on loopback, or with link (tbf_link()) across the shaped veth."""
    port = bl.free_port()
    host = link.ADDR_SEND if link else "127.0.0.1"
    in_send = (lambda c: link.in_ns(link.NS_SEND, c)) if link else (lambda c: c)
    in_view = (lambda c: link.in_ns(link.NS_VIEW, c)) if link else (lambda c: c)
    send = subprocess.Popen(in_send([f"{build}/freshcam-send", "--listen", f"{host}:{port}",
                                     "--size", size, "--fps", "30", "--quality",
                                     str(peers.QUALITY), "--quiet"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    view = None
    try:
        if link:
            wait_listening_in(link, port)
        else:
            bl.wait_port(port, 10)
        view = subprocess.Popen(in_view([f"{build}/freshcam-view", "--headless", "--quiet",
                                         f"{host}:{port}", "--check-stamps", "--adapt", "off",
                                         "--parts", parts, "--stats-json", "-"]),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        counter = peers.Counter(view.stdout, peers.parse_fc_json)
        time.sleep(1.5)
        t0, t1, cs, cr = peers.measure_window([send.pid], [view.pid], seconds, bl.cpu_exact_of)
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
            "left_ms": sm.get("decode_ms_p50", float("nan")),
            "decoded_in_parts": sm.get("parts_decoded", 0) / max(sm.get("shown", 0), 1),
            "frame_bytes": sm.get("bytes", 0) / max(sm.get("received", 0), 1),
            "send_ms": 1000 * cs / frames if frames else float("nan"),
            "recv_ms": 1000 * cr / frames if frames else float("nan")}


def peer_run(name, size, c, a, qscale, tmp):
    r = peers.peer_live(name, size, c, a, qscale, tmp, bl.cpu_exact_of)
    return {"fps": r["shown_fps"], "p50": r["p50"], "p99": r["p99"], "left_ms": float("nan"),
            "decoded_in_parts": 0.0, "frame_bytes": float("nan"), "send_ms": r["send_ms"],
            "recv_ms": r["recv_ms"]}


def one_size(a, size, c, tmp, link):
    tj0 = peers.tjbench(c["ppm"], size, 0.5)
    qscale = peers.qscale_like(c, size, tj0, tmp)[0]
    who = ["on", "off"] + ([] if a.no_peers or link else ["gstreamer", "ffmpeg"])
    runs = {w: [] for w in who}
    tjs = []
    for i in range(a.runs):
        tjs.append(peers.tjbench(c["ppm"], size, 1.0))
        for w in who:
            runs[w].append(fc_run(a.build, size, w, a.seconds, link) if w in ("on", "off") else
                           peer_run(w, size, c, a, qscale, tmp))
            peers.log(f"{size} run {i + 1}/{a.runs} {w}: {runs[w][-1]} "
                      f"(load {os.getloadavg()[0]:.2f})")
    tj = {k: bl.median([t[k] for t in tjs]) for k in ("enc_ms", "dec_ms")}
    med = {w: {k: bl.median([r[k] for r in rs]) for k in rs[0]} for w, rs in runs.items()}
    return tj, med, qscale


def rate_bits(rate):
    """50mbit, 5Mbit, 800kbit: bits a second."""
    n = rate.lower().rstrip("bit").rstrip("/s")
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(n[-1:], 1)
    return float(n.rstrip("kmg")) * scale


def report_link(size, rate, tj, med, load):
    """The shaped link's table: the age against the serial encode + transfer + decode."""
    xfer = 1000 * med["off"]["frame_bytes"] * 8 / rate_bits(rate)
    serial = tj["enc_ms"] + xfer + tj["dec_ms"]
    print(f"\n{size} over TBF {rate}: {med['off']['frame_bytes'] / 1000:.1f} KB a frame; serial "
          f"{tj['enc_ms']:.2f} + {xfer:.2f} + {tj['dec_ms']:.2f} = {serial:.2f} ms (tjbench's "
          f"encode, the transfer at {rate}, tjbench's decode; load {load})")
    print("| parts | shown fps | true age p50 | p99 | p50 / serial | CPU/frame sender | viewer |")
    print("|---|---|---|---|---|---|---|")
    for w in ("on", "off"):
        m = med[w]
        print(f"| {w} | {m['fps']:.1f} | {m['p50']:.2f} ms | {m['p99']:.2f} ms | "
              f"{m['p50'] / serial:.2f} | {m['send_ms']:.2f} ms | {m['recv_ms']:.2f} ms |")
    print(f"parts on/off: age p50 {med['on']['p50'] / med['off']['p50']:.2f}; the transfer alone "
          f"is {xfer / serial:.2f} of the serial sum", flush=True)


def report(size, tj, med, qscale, load):
    limit = tj["enc_ms"] + tj["dec_ms"]
    names = {"on": "freshcam, parts on", "off": "freshcam, parts off", "gstreamer": "GStreamer",
             "ffmpeg": f"ffmpeg (-q:v {qscale})"}
    print(f"\n{size}: tjbench encode {tj['enc_ms']:.2f} + decode {tj['dec_ms']:.2f} = "
          f"{limit:.2f} ms (medians; load {load})")
    print("| who | shown fps | true age p50 | p99 | left to decode | CPU/frame sender | receiver |")
    print("|---|---|---|---|---|---|---|")
    for w, m in med.items():
        left = "" if m["left_ms"] != m["left_ms"] else f"{m['left_ms']:.2f} ms"
        print(f"| {names[w]} | {m['fps']:.1f} | {m['p50']:.2f} ms ({m['p50'] / limit:.2f}x) | "
              f"{m['p99']:.2f} ms ({m['p99'] / limit:.2f}x) | {left} | {m['send_ms']:.2f} ms | "
              f"{m['recv_ms']:.2f} ms |")
    on, off = med["on"], med["off"]
    print(f"parts on/off: age p50 {on['p50'] / off['p50']:.2f}, p99 {on['p99'] / off['p99']:.2f}, "
          f"CPU/frame sender {on['send_ms'] / off['send_ms']:.3f}, viewer "
          f"{on['recv_ms'] / off['recv_ms']:.3f}; {100 * on['decoded_in_parts']:.0f}% of the "
          f"frames shown decoded in parts", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--no-peers", action="store_true", help="freshcam and tjbench only")
    ap.add_argument("--tbf", metavar="RATE", help="across namespaces, capped by TBF at RATE")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.content, a.photo = "pattern", None  # peers.prepare: the test pattern, as freshcam-send's
    sizes = a.sizes.split(",")
    print(f"{bl.machine()}; load before: {os.getloadavg()[0]:.2f}", flush=True)
    link = tbf_link() if a.tbf else None
    with tempfile.TemporaryDirectory(prefix="fc-parts-") as tmp:
        content = peers.prepare(a, tmp, sizes)
        try:
            if link:
                link.make_link()
                link.shape(a.tbf)
            for size in sizes:
                l0 = os.getloadavg()[0]
                tj, med, qscale = one_size(a, size, content[size], tmp, link)
                load = f"{l0:.1f} to {os.getloadavg()[0]:.1f}"
                if link:
                    report_link(size, a.tbf, tj, med, load)
                else:
                    report(size, tj, med, qscale, load)
        finally:
            if link:
                link.drop_link()


if __name__ == "__main__":
    main()
