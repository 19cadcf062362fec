#!/usr/bin/env python3
"""bench/peers.py: freshcam against the JPEG limit (tjbench) and against GStreamer, ffmpeg and
uStreamer, side by side, on loopback, with the same pictures, sizes and quality (80, 4:2:0), in
one run, interleaved; medians of --runs rounds. bench/run installs, builds and calls it.

For each size (640x480, 1280x720, 1920x1080 by default):
  - the limit: tjbench on the frame every streamer sends, compress from planar YUV and
    decompress to planar YUV, ms per frame;
  - maximum sustained fps with one viewer, and the CPU time per frame of the sender and of the
    receiver over that window (/proc): GStreamer and ffmpeg run unthrottled (TCP's backpressure
    paces them, nothing is dropped); freshcam-send captures at a rate and never waits for a viewer,
    so its maximum is the most frames a second one viewer shows, over a few asked rates (fc_max);
  - at 30 fps live: the age of each decoded frame from capture (read from the frame's stamp, same
    host, same clock), p50/p95/p99; CPU per frame; peak resident memory; freshcam with 1 and with
    4 viewers.
And at 1280x720 30 fps from the fake camera's YUYV: freshcam-send against uStreamer (bench/capture.py).

The pictures are a photograph (mate-backgrounds' Dune, scaled with ffmpeg) with sensor noise and
the stamp, drawn by freshcam's own code (sender/capture/photo.c): in freshcam-send (--photo), and in
bench/fc-benchframes for tjbench (a PPM), for the peers' throughput runs (raw frames on disk, looped)
and for their live runs (stamped frames through a pipe at 30 fps). The receivers of the live runs
write their decoded frames to fc-benchframes, which reads the stamps.

Usage: bench/peers.py --build DIR [--runs N] [--seconds S] [--sizes LIST] [--content photo|pattern]
                      [--out FILE] [--update-doc docs/BENCHMARKS.md]
Python standard library only. It times things: never part of tools/check."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import capture  # noqa: E402

QUALITY = 80
LIVE_FPS = 30
PHOTO = "/usr/share/backgrounds/mate/nature/Dune.jpg"
MARK_BEGIN = "<!-- bench/run: begin -->"
MARK_END = "<!-- bench/run: end -->"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def wh(size):
    w, h = size.split("x")
    return int(w), int(h)


class Counter:
    """Reads a process's output in a thread and keeps (monotonic time, cumulative frames) samples,
    so that a rate can be taken over exactly the measured window."""

    def __init__(self, stream, parse):
        self.samples = []
        self.lines = []
        self._parse = parse
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        n = 0
        for raw in stream:
            line = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            v = self._parse(line, n)
            if v is not None:
                n = v
                self.samples.append((time.monotonic(), n))
            elif len(self.lines) < 200:
                self.lines.append(line)

    def at(self, t):
        """Frames counted by time t (the last sample at or before it)."""
        best = (0, 0)
        for s in self.samples:
            if s[0] <= t:
                best = s
        return best

    def rate(self, t0, t1):
        a, b = self.at(t0), self.at(t1)
        return (b[1] - a[1]) / (b[0] - a[0]) if b[0] > a[0] else float("nan"), b[1] - a[1]


def parse_gst(line, n):
    return n + 1 if "last-message = chain" in line else None


def parse_ffmpeg_progress(line, n):
    m = re.match(r"frame=(\d+)", line)
    return int(m.group(1)) if m else None


def parse_fc_json(line, n):
    if not line.startswith("{"):
        return None
    try:
        d = json.loads(line)
    except ValueError:
        return None
    return d.get("shown") if not d.get("summary") else None


# ---- content -------------------------------------------------------------------------------

def prepare(a, tmp, sizes):
    """Per size: the photo scaled by ffmpeg (a JPEG at ffmpeg's best quality, which
    freshcam-send --photo and fc-benchframes load), the PPM for tjbench and 8 raw frames."""
    frames = os.path.join(a.build, "bench", "fc-benchframes")
    out = {}
    for size in sizes:
        w, h = wh(size)
        d = os.path.join(tmp, size)
        os.makedirs(d, exist_ok=True)
        photo = None
        src = []
        if a.content == "photo":
            photo = os.path.join(d, "photo.jpg")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", a.photo, "-vf",
                            f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=lanczos,"
                            f"crop={w}:{h}", "-q:v", "1", "-qmin", "1", photo], check=True,
                           timeout=60)
            src = ["--photo", photo]
        ppm = os.path.join(d, "frame.ppm")
        subprocess.run([frames, "ppm", "--size", size, *src, "--out", ppm], check=True, timeout=60)
        subprocess.run([frames, "write", "--size", size, *src, "--frames", "8", "--out",
                        os.path.join(d, "f")], check=True, timeout=60)
        out[size] = {"dir": d, "src": src, "ppm": ppm, "raw": os.path.join(d, "f%03d.yuv"),
                     "raw0": os.path.join(d, "f000.yuv")}
    return out


# ---- the limit -----------------------------------------------------------------------------

def tjbench(ppm, size, benchtime):
    """Compress from planar YUV and decompress to planar YUV, ms per frame (tjbench -yuv), with
    the accurate DCT both ways, as freshcam's encoder and decoder and the peers here use."""
    w, h = wh(size)
    r = subprocess.run(["tjbench", ppm, str(QUALITY), "-subsamp", "420", "-yuv", "-quiet",
                        "-benchtime", str(benchtime), "-warmup", "0.3", "-nowrite", "-accuratedct"],
                       capture_output=True, text=True, timeout=120)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 10 and f[2] == "4:2:0":
            mpix = w * h / 1e6
            # Pixel format, (TD), subsampling, quality, width, height, then Mpixels/s:
            # RGB to YUV, compress from YUV, the ratio, decompress to YUV, YUV to RGB.
            return {"enc_ms": 1000 * mpix / float(f[7]), "dec_ms": 1000 * mpix / float(f[9]),
                    "ratio": float(f[8])}
    raise RuntimeError("tjbench said: " + r.stdout + r.stderr)


# ---- peers' pipelines ----------------------------------------------------------------------

def gst_receiver(port, size, ages_to=None):
    sink = (["fdsink", "fd=1", "sync=false"] if ages_to else
            ["fakesink", "silent=false", "sync=false"])
    return ["gst-launch-1.0", "-q" if ages_to else "-v", "tcpserversrc", "host=127.0.0.1",
            f"port={port}", "!", "multipartdemux", "!", "jpegdec", "idct-method=islow", "!",
            *sink]


def gst_sender(port, size, c, live):
    w, h = wh(size)
    caps = f"video/x-raw,format=I420,width={w},height={h},framerate={LIVE_FPS}/1"
    if live:
        # 64 KiB reads: a whole frame per read makes fdsrc allocate a frame per partial read
        # (215 MiB resident, measured), with no gain in age.
        src = ["fdsrc", "fd=0", "blocksize=65536", "!", "rawvideoparse",
               f"width={w}", f"height={h}", "format=i420", f"framerate={LIVE_FPS}/1"]
    else:
        src = ["multifilesrc", f"location={c['raw']}", "loop=true", f"caps={caps}"]
    return ["gst-launch-1.0", "-q", *src, "!", "jpegenc", f"quality={QUALITY}",
            "idct-method=islow", "!", "multipartmux", "!", "tcpclientsink", "host=127.0.0.1",
            f"port={port}", "sync=false"]


def ffmpeg_receiver(port, size, ages_to=None):
    out = (["-f", "rawvideo", "-pix_fmt", "yuvj420p", "pipe:1"] if ages_to else
           ["-f", "null", "-"])
    return ["ffmpeg", "-v", "error", "-nostdin", "-fflags", "nobuffer", "-flags", "low_delay",
            "-probesize", "32", "-analyzeduration", "0", "-f", "mjpeg", "-i",
            f"tcp://127.0.0.1:{port}?listen=1", *(
                [] if ages_to else ["-progress", "pipe:1", "-stats_period", "0.1"]), *out]


def ffmpeg_sender(port, size, c, live, qscale):
    w, h = wh(size)
    inp = ["-f", "rawvideo", "-pix_fmt", "yuvj420p", "-s", size]
    if live:
        inp += ["-framerate", str(LIVE_FPS), "-i", "pipe:0"]
    else:
        inp = ["-stream_loop", "-1", *inp, "-i", c["raw0"]]
    return ["ffmpeg", "-v", "error", "-nostdin", *inp, "-c:v", "mjpeg", "-q:v", str(qscale),
            "-pix_fmt", "yuvj420p", "-f", "mjpeg", f"tcp://127.0.0.1:{port}"]


def ffmpeg_qscale(c, size, target_bytes, tmp):
    """ffmpeg's MJPEG has no libjpeg quality: the -q:v whose frames are closest in size to
    libjpeg's at quality 80 on the same picture."""
    best = None
    for q in range(2, 9):
        out = os.path.join(tmp, "q.mjpeg")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuvj420p",
                        "-s", size, "-i", c["raw0"], "-c:v", "mjpeg", "-q:v", str(q),
                        "-pix_fmt", "yuvj420p", "-f", "mjpeg", out], check=True, timeout=60)
        d = abs(os.path.getsize(out) - target_bytes)
        if best is None or d < best[0]:
            best = (d, q, os.path.getsize(out))
    return best[1], best[2]


def qscale_like(c, size, tj, tmp):
    """ffmpeg_qscale for the size libjpeg's frames have at QUALITY, from tjbench's ratio."""
    w, h = wh(size)
    return ffmpeg_qscale(c, size, w * h * 1.5 / tj["ratio"] * 2, tmp)


def start_pair(recv_cmd, send_cmd, port, send_stdin=None, recv_stdout=subprocess.PIPE):
    recv = subprocess.Popen(recv_cmd, stdout=recv_stdout, stderr=subprocess.DEVNULL)
    bl.wait_listening(port)
    send = subprocess.Popen(send_cmd, stdin=send_stdin or subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return recv, send


def measure_window(procs_send, procs_recv, seconds, cpu=bl.cpu_of):
    """CPU seconds of each side over a window of `seconds` (cpu: bl.cpu_of, or bl.cpu_exact_of
    where a few percent matter); returns (t0, t1, send, recv)."""
    s0, r0, t0 = cpu(procs_send), cpu(procs_recv), time.monotonic()
    time.sleep(seconds)
    s1, r1, t1 = cpu(procs_send), cpu(procs_recv), time.monotonic()
    return t0, t1, s1 - s0, r1 - r0


def peer_max(name, size, c, a, qscale):
    port = bl.free_port()
    if name == "gstreamer":
        recv, send = start_pair(gst_receiver(port, size), gst_sender(port, size, c, False), port)
        counter = Counter(recv.stdout, parse_gst)
    else:
        recv, send = start_pair(ffmpeg_receiver(port, size),
                                ffmpeg_sender(port, size, c, False, qscale), port)
        counter = Counter(recv.stdout, parse_ffmpeg_progress)
    try:
        time.sleep(1.5)
        t0, t1, cs, cr = measure_window([send.pid], [recv.pid], a.seconds)
        fps, n = counter.rate(t0, t1)
        rss = (bl.peak_rss_mib(send.pid), bl.peak_rss_mib(recv.pid))
    finally:
        bl.stop([send, recv])
    if not n:
        log(f"  {name} {size}: no frames counted; receiver said: {''.join(counter.lines[-5:])}")
        return None
    return {"fps": fps, "send_ms": 1000 * cs / n, "recv_ms": 1000 * cr / n,
            "send_rss": rss[0], "recv_rss": rss[1]}


def read_ages(path, skip):
    ages = []
    with open(path) as f:
        for line in f:
            t, age = line.split()
            if float(t) >= skip:
                ages.append(float(age))
    ages.sort()
    return ages


def peer_live(name, size, c, a, qscale, tmp, cpu=bl.cpu_of):
    port = bl.free_port()
    frames = os.path.join(a.build, "bench", "fc-benchframes")
    agefile = os.path.join(tmp, f"ages-{name}.txt")
    total = a.seconds + 2.5
    ages = subprocess.Popen([frames, "ages", "--size", size, "--seconds", str(total + 2), "--out",
                             agefile], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    if name == "gstreamer":
        rc, sc = gst_receiver(port, size, True), gst_sender(port, size, c, True)
    else:
        rc, sc = ffmpeg_receiver(port, size, True), ffmpeg_sender(port, size, c, True, qscale)
    recv = subprocess.Popen(rc, stdout=ages.stdin, stderr=subprocess.DEVNULL)
    ages.stdin.close()
    bl.wait_listening(port)
    src = subprocess.Popen([frames, "live", "--size", size, *c["src"], "--fps", str(LIVE_FPS),
                            "--seconds", str(total)], stdout=subprocess.PIPE)
    send = subprocess.Popen(sc, stdin=src.stdout, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    src.stdout.close()
    try:
        time.sleep(1.5)
        _, _, cs, cr = measure_window([send.pid], [recv.pid], a.seconds, cpu)
        rss = (bl.peak_rss_mib(send.pid), bl.peak_rss_mib(recv.pid))
    finally:
        bl.stop([src, send, recv])
        bl.stop([ages])
    got = read_ages(agefile, 1.0)
    n = a.seconds * LIVE_FPS
    return {"p50": bl.quantile(got, 0.5), "p95": bl.quantile(got, 0.95),
            "p99": bl.quantile(got, 0.99), "shown_fps": len(got) / (a.seconds + 0.5),
            "send_ms": 1000 * cs / n, "recv_ms": 1000 * cr / n, "send_rss": rss[0],
            "recv_rss": rss[1]}


# ---- freshcam ------------------------------------------------------------------------------

def fc_run(a, size, c, fps, viewers, seconds, window=2, full=False):
    """freshcam-send at fps with `viewers` headless viewers; CPU over the window, the first
    viewer's shown rate, and every viewer's true ages (summary). full: the viewers ask for the
    full picture always (--adapt off), so that a run at the machine's limit compares the same
    pictures as the peers send (fitted to the link, a viewer whose frames age while both cores
    are saturated gets smaller ones, and the figures would be of other pictures)."""
    port = bl.free_port()
    send = subprocess.Popen([f"{a.build}/freshcam-send", "--listen", f"127.0.0.1:{port}",
                             "--size", size, "--fps", f"{fps:g}", "--quality", str(QUALITY),
                             "--quiet", *c["src"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    views = []
    try:
        try:
            bl.wait_port(port, 10)
        except RuntimeError:
            log(f"  freshcam-send {size} at {fps:g} fps did not start (exit {send.poll()})")
            return {"fps": float("nan"), "rejected": 0, "failed": True}
        for _ in range(viewers):
            views.append(subprocess.Popen(
                [f"{a.build}/freshcam-view", "--headless", "--quiet", f"127.0.0.1:{port}",
                 "--check-stamps", "--window", str(window), "--stats-json", "-",
                 *(["--adapt", "off"] if full else [])],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        counter = Counter(views[0].stdout, parse_fc_json)
        others = [threading.Thread(target=v.stdout.read, daemon=True) for v in views[1:]]
        time.sleep(1.5)
        t0, t1, cs, cr = measure_window([send.pid], [views[0].pid], seconds)
        rss = (bl.peak_rss_mib(send.pid), bl.peak_rss_mib(views[0].pid))
    finally:
        # The viewers' summaries (true ages over the whole run) come on SIGTERM.
        outs = []
        for v in views:
            v.terminate()
        for v in views[1:]:
            outs.append(v.communicate(timeout=10)[0].decode())
        bl.stop(views)
        bl.stop([send])
    time.sleep(0.2)
    fps, n = counter.rate(t0, t1)
    sums = []
    for line in counter.lines + [l for o in outs for l in o.splitlines()]:
        if '"summary":true' in line.replace(" ", ""):
            sums.append(json.loads(line))
    frames = fps * (t1 - t0) if fps == fps else 0
    r = {"fps": fps, "send_ms": 1000 * cs / frames if frames else float("nan"),
         "recv_ms": 1000 * cr / frames if frames else float("nan"), "send_rss": rss[0],
         "recv_rss": rss[1], "rejected": sum(s.get("rejected", 0) for s in sums)}
    if sums:
        r["p50"] = bl.median([s.get("true_age_ms_p50", float("nan")) for s in sums])
        r["p95"] = max(s.get("true_age_ms_p95", float("nan")) for s in sums)
        r["p99"] = max(s.get("true_age_ms_p99", float("nan")) for s in sums)
        # The figures are of the full picture only if the viewers got it: say so when not
        # (loopback at 30 fps fits it; the climb from a smaller start takes a few frames).
        w = int(size.split("x")[0])
        mix = [m for s in sums for m in s.get("renditions", [])]
        total = sum(m.get("frames", 0) for m in mix)
        full = sum(m.get("frames", 0) for m in mix if m.get("width") == w)
        r["full_share"] = full / total if total else float("nan")
        if total and full < 0.95 * total:
            log(f"  freshcam {size} at {fps:g} fps: only {100 * full / total:.0f}% of the "
                f"frames were the full picture")
    return r


def fc_max(a, size, c, target):
    """freshcam-send captures at the rate it is asked and never waits for a viewer, so frames a
    viewer cannot take in time are dropped (the freshest wins), and their encodes are wasted.
    Its maximum with one viewer is the most frames a second the viewer shows: tried at `target`
    (1.3 times GStreamer's fps of the same round, the issue's goal), then just under what each
    try showed; 3 tries, the best kept. CPU per frame is per frame shown, so the waste counts."""
    rate, best = target, None
    for _ in range(3):
        rate = min(1000, max(5, round(rate / 5) * 5))  # freshcam-send takes up to 1000 fps
        r = fc_run(a, size, c, rate, 1, a.seconds, window=4, full=True)
        if r["fps"] != r["fps"]:
            break
        r["rate"] = rate
        log(f"  freshcam {size} asked {rate} fps: shown {r['fps']:.1f}")
        if best is None or r["fps"] > best["fps"]:
            best = r
        if r["fps"] >= 0.97 * rate:
            break
        rate = 0.97 * r["fps"]
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    ap.add_argument("--content", choices=("photo", "pattern"), default="photo")
    ap.add_argument("--photo", default=PHOTO)
    ap.add_argument("--skip", default="", help="comma list of: max, live, fakecam, tjbench")
    ap.add_argument("--out", help="also write the raw results as JSON here")
    ap.add_argument("--update-doc", help="replace the marked section of this Markdown file")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    skip = set(filter(None, a.skip.split(",")))
    sizes = a.sizes.split(",")
    res = {}  # (what, who, size) -> [run results]

    def add(key, r):
        if r and not r.get("failed"):
            res.setdefault(key, []).append(r)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fc-bench-") as tmp:
        content = prepare(a, tmp, sizes)
        qscale = {}
        for size in sizes:
            tj = tjbench(content[size]["ppm"], size, 0.5)
            qscale[size] = qscale_like(content[size], size, tj, tmp)
            log(f"{size}: ffmpeg -q:v {qscale[size][0]} ({qscale[size][1] / 1024:.0f} KB a frame)")
        guess = {}
        for run in range(a.runs):
            for size in sizes:
                c = content[size]
                log(f"round {run + 1}/{a.runs}, {size} ({time.monotonic() - started:.0f} s)")
                if "tjbench" not in skip:
                    add(("tj", "tjbench", size), tjbench(c["ppm"], size, 1.0))
                if "max" not in skip:
                    g = peer_max("gstreamer", size, c, a, qscale[size][0])
                    add(("max", "gstreamer", size), g)
                    target = 1.3 * g["fps"] if g else guess.get(size, 100)
                    r = fc_max(a, size, c, target)
                    if r:
                        guess[size] = r["rate"]
                    add(("max", "freshcam", size), r)
                    add(("max", "ffmpeg", size), peer_max("ffmpeg", size, c, a, qscale[size][0]))
                if "live" not in skip:
                    add(("live", "freshcam", size), fc_run(a, size, c, LIVE_FPS, 1, a.seconds))
                    add(("live", "freshcam x4", size), fc_run(a, size, c, LIVE_FPS, 4, a.seconds))
                    for peer in ("gstreamer", "ffmpeg"):
                        add(("live", peer, size),
                            peer_live(peer, size, c, a, qscale[size][0], tmp))
            if "fakecam" not in skip:
                for fmt in ("yuyv",):
                    for name, fn in (("freshcam", capture.run_freshcam),
                                     ("ustreamer", capture.run_ustreamer)):
                        add(("cam", name, fmt), fn(a.build, fmt, a.seconds + 2, tmp))
        if "tjbench" not in skip and "fakecam" not in skip:
            # The fake camera shows the test pattern: the limit for that frame too.
            frames = os.path.join(a.build, "bench", "fc-benchframes")
            ppm = os.path.join(tmp, "pattern-1280x720.ppm")
            subprocess.run([frames, "ppm", "--size", "1280x720", "--out", ppm], check=True)
            for _ in range(a.runs):
                add(("tj", "tjbench pattern", "1280x720"), tjbench(ppm, "1280x720", 1.0))
    med = {k: {f: bl.median([r.get(f, float("nan")) for r in v]) for f in v[0]}
           for k, v in res.items()}
    if a.out:
        with open(a.out, "w") as f:
            json.dump({" | ".join(k): v for k, v in res.items()}, f, indent=1)
    text = report(a, sizes, med, qscale, time.monotonic() - started)
    print(text)
    if a.update_doc:
        update_doc(a.update_doc, text)


def fmt(v, unit="", d=2):
    return "n/a" if v is None or v != v else f"{v:.{d}f}{unit}"


def ratio(x, y, d=2):
    return "n/a" if not x or not y or x != x or y != y else f"{x / y:.{d}f}"


def report(a, sizes, m, qscale, took):
    L = []
    cmd = "bench/run" + (f" --runs {a.runs}" if a.runs != 3 else "")
    L.append(f"{MARK_BEGIN}\n")
    L.append(f"```sh\n{cmd}\n```\n")
    L.append(f"Machine: {bl.machine()}. {time.strftime('%Y-%m-%d')}; content: "
             f"{'the Dune photograph with sensor noise' if a.content == 'photo' else 'the test pattern'}, "
             f"quality {QUALITY}, 4:2:0; {a.runs} interleaved rounds of {a.seconds:g} s windows, "
             f"medians; the whole run took {took / 60:.1f} min. ffmpeg's MJPEG has no libjpeg "
             "quality: its -q:v is the one whose frames come closest in size ("
             + ", ".join(f"{s}: -q:v {q[0]}" for s, q in qscale.items()) + ").\n")
    L.append("### The limit: tjbench on the same frames\n")
    L.append("| size | encode (YUV planes to JPEG) | decode (JPEG to YUV planes) | sum |")
    L.append("|---|---|---|---|")
    for s in sizes:
        t = m.get(("tj", "tjbench", s))
        if t:
            L.append(f"| {s} | {fmt(t['enc_ms'], ' ms')} | {fmt(t['dec_ms'], ' ms')} | "
                     f"{fmt(t['enc_ms'] + t['dec_ms'], ' ms')} |")
    L.append("\n### Maximum sustained fps, one viewer, and CPU per frame\n")
    L.append("| size | streamer | fps | sender CPU/frame | receiver CPU/frame | total CPU/frame | "
             "fps vs freshcam | CPU/frame vs freshcam | total vs tjbench enc+dec |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        fc = m.get(("max", "freshcam", s))
        tj = m.get(("tj", "tjbench", s))
        for who in ("freshcam", "gstreamer", "ffmpeg"):
            r = m.get(("max", who, s))
            if not r:
                continue
            tot = r["send_ms"] + r["recv_ms"]
            fctot = fc["send_ms"] + fc["recv_ms"] if fc else None
            L.append(f"| {s} | {who} | {fmt(r['fps'], '', 0)} | {fmt(r['send_ms'], ' ms')} | "
                     f"{fmt(r['recv_ms'], ' ms')} | {fmt(tot, ' ms')} | "
                     f"{ratio(fc['fps'], r['fps']) if fc and who != 'freshcam' else ''} | "
                     f"{ratio(fctot, tot) if fc and who != 'freshcam' else ''} | "
                     f"{ratio(tot, tj['enc_ms'] + tj['dec_ms']) if tj else 'n/a'} |")
    L.append("\nfps vs freshcam is freshcam's fps over the peer's; CPU/frame vs freshcam is "
             "freshcam's total over the peer's (below 1: freshcam is cheaper).\n")
    L.append(f"### Live at {LIVE_FPS} fps: capture to decoded, CPU, memory\n")
    L.append("| size | streamer | shown fps | age p50 | p95 | p99 | sender CPU/frame | "
             "receiver CPU/frame | sender peak RSS | receiver peak RSS |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        for who in ("freshcam", "freshcam x4", "gstreamer", "ffmpeg"):
            r = m.get(("live", who, s))
            if not r:
                continue
            L.append(f"| {s} | {who} | {fmt(r.get('fps', r.get('shown_fps')), '', 1)} | "
                     f"{fmt(r.get('p50'), ' ms', 1)} | {fmt(r.get('p95'), ' ms', 1)} | "
                     f"{fmt(r.get('p99'), ' ms', 1)} | {fmt(r['send_ms'], ' ms')} | "
                     f"{fmt(r['recv_ms'], ' ms')} | {fmt(r['send_rss'], ' MiB', 1)} | "
                     f"{fmt(r['recv_rss'], ' MiB', 1)} |")
    cam = {w: m.get(("cam", w, "yuyv")) for w in ("freshcam", "ustreamer")}
    tjp = m.get(("tj", "tjbench pattern", "1280x720"))
    if cam["freshcam"]:
        L.append("\n### From the fake camera's YUYV, 1280x720 at 30 fps (bench/capture.py)\n")
        L.append("| streamer | sender CPU/frame | vs tjbench encode of that frame | "
                 "capture→decoded p50 | p99 |")
        L.append("|---|---|---|---|---|")
        for w in ("freshcam", "ustreamer"):
            r = cam[w]
            if r:
                L.append(f"| {w} | {fmt(r['cpu_ms'], ' ms')} | "
                         f"{ratio(r['cpu_ms'], tjp['enc_ms']) if tjp else 'n/a'} | "
                         f"{fmt(r['age_p50'], ' ms', 1)} | {fmt(r['age_p99'], ' ms', 1)} |")
        if tjp:
            L.append(f"\ntjbench on that frame (the test pattern, which the fake camera shows): "
                     f"encode {fmt(tjp['enc_ms'], ' ms')}, decode {fmt(tjp['dec_ms'], ' ms')}. "
                     "Ages include the camera's one-frame readout (33 ms).")
    L.append(f"\n{MARK_END}")
    return "\n".join(L)


def update_doc(path, text):
    with open(path) as f:
        doc = f.read()
    i, j = doc.find(MARK_BEGIN), doc.find(MARK_END)
    if i < 0 or j < 0:
        log(f"{path} has no {MARK_BEGIN} ... {MARK_END} section: not updated")
        return
    with open(path, "w") as f:
        f.write(doc[:i] + text + doc[j + len(MARK_END):])
    log(f"updated {path}")


if __name__ == "__main__":
    main()
