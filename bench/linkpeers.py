#!/usr/bin/env python3
"""bench/linkpeers.py: GStreamer, ffmpeg and uStreamer through a shaped link (tools/linkemu,
tests/e2e/linkns.py), one at a time, so that a benchmark can put their shown fps and frame age
beside freshcam's on the same link. The sender or server runs in the link's end "a" (the camera's
side), the receiver or client in end "b"; the frames cross a->b, the shaped direction.

    import linkpeers
    with linkns.Link(linkemu, a2b="rate=10mbit delay=10ms", b2a="delay=10ms") as link:
        r = linkpeers.run_peer("gstreamer", link, "build/bench", seconds=10, tmp=tmp)
        # {"peer": "gstreamer", "shown_fps": 9.7, "age_ms_p50": ..., "note": ...}

The pipelines are bench/peers.py's live ones, the same functions with the loopback address
replaced by the link's (quality 80, 4:2:0, the accurate islow DCT wherever there is a choice):

  - gstreamer: `fc-benchframes live | gst-launch-1.0 fdsrc ! rawvideoparse ! jpegenc quality=80
    idct-method=islow ! multipartmux ! tcpclientsink host=B` in a, and `tcpserversrc host=B !
    multipartdemux ! jpegdec idct-method=islow ! fdsink` in b, whose output goes to
    `fc-benchframes ages`;
  - ffmpeg: `fc-benchframes live | ffmpeg -f rawvideo -i pipe:0 -c:v mjpeg -q:v Q -f mjpeg
    tcp://B:P` in a and `ffmpeg -fflags nobuffer -flags low_delay -f mjpeg -i tcp://B:P?listen=1
    -f rawvideo -pix_fmt yuvj420p pipe:1` in b, to `fc-benchframes ages`. ffmpeg's MJPEG has no
    libjpeg quality: Q is the -q:v whose frames come closest in size to libjpeg's at quality 80
    on the same picture (peers.ffmpeg_qscale, as bench/peers.py picks it);
  - ustreamer: `ustreamer --format YUYV --quality 80` on the fake camera (tools/fakecam by
    LD_PRELOAD, its own stamped test pattern in YUYV at the asked size and rate) in a, listening on
    A, and as bench/capture.py reads it, `ffmpeg -threads 1 -flags low_delay -fflags nobuffer
    -f mpjpeg -i http://A:P/stream` in b, decoding to yuvj420p for `fc-benchframes ages`.

GStreamer's and ffmpeg's pictures are bench/peers.py's live ones: the photograph (mate-backgrounds'
Dune, scaled by ffmpeg) with sensor noise and the stamp, drawn by fc-benchframes live at `fps` when
due; a sender that does not take a frame in time costs that frame, as a camera drops the frames
nobody dequeues. (Their pipelines say 30 fps whatever `fps` is: nothing paces on it.) uStreamer's
are the fake camera's test pattern, which compresses better than the photograph (at 1280x720, 121
KB a frame against 156 KB): bytes_per_frame says how much each asks of the link.

What is measured, over `seconds` that start `warm` seconds after the receiver decoded its first
frame (so that TCP's start and the pipelines' start-up are left out):
  - shown_fps: frames decoded at the receiver per second (frames handed to fc-benchframes ages,
    from its read count in /proc/PID/io, sampled at both ends of the window);
  - age_ms_p50, _p99, _max: each decoded frame's true age, from capture to decoded, read by
    fc-benchframes ages from the stamp drawn into the picture (capture_ns: when fc-benchframes live
    drew the frame, or the start of the fake camera's exposure, so uStreamer's ages include the
    camera's one-frame readout, camera_readout_ms); same host, one CLOCK_MONOTONIC for every
    namespace. age_ms_last is the median age over the window's last second; over_budget_pct the
    share of decoded frames older than 80 ms (freshcam-view's default budget; these peers show
    every frame they decode, however old);
  - bytes_per_s: IP bytes linkemu forwarded a->b over the window (its counters: the stream, its
    TCP/IP headers and retransmissions, and anything else sent a->b meanwhile), and
    bytes_per_frame, that over shown_fps;
  - taken_fps (GStreamer, ffmpeg): frames the sender took from fc-benchframes live a second; the
    camera made `fps`; what the sender did not take, it never saw.
  - tcp_cc: the congestion control of the sender's TCP (the namespaces inherit the host's).
Over TCP none of these peers drops a frame once it has written it: when the stream is wider than
the link, GStreamer and ffmpeg block on the socket (so the camera drops what they do not take) and
uStreamer sends a client fewer frames, and what was written queues in the sender's socket buffer
and the link's queue: each frame is older than the last until those are full, then the ages stay
high. The note says when ages still grew over the window, and when fewer than `fps` were shown.

Run alone (root, a build with tools/linkemu): one JSON line per peer.
  python3 bench/linkpeers.py --build build/bench --rate 10mbit --delay 10ms [--loss 1%]
                             [--seconds 8] [--size 1280x720] [--fps 30] [--peers a,b]
Python standard library only. It times things: never part of tools/check."""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import benchlib as bl  # noqa: E402
import linkns  # noqa: E402
import peers  # noqa: E402

PEERS = ("gstreamer", "ffmpeg", "ustreamer")
FIRST_FRAME_S = 15  # the longest wait for the first decoded frame
LOOPBACK = "127.0.0.1"
BUDGET_MS = 80  # what freshcam-view would allow: the share of frames shown older than it

_content = {}  # (build, size, tmp, photo) -> (peers.prepare's content, ffmpeg -q:v)


def content(build, size, tmp, photo):
    """bench/peers.py's pictures for one size (the photo scaled, its raw frames) and ffmpeg's
    -q:v for them, made once per temporary directory."""
    key = (build, size, tmp, photo)
    if key not in _content:
        a = types.SimpleNamespace(build=build, content="photo", photo=photo)
        c = peers.prepare(a, tmp, [size])[size]
        tj = peers.tjbench(c["ppm"], size, 0.5)
        w, h = peers.wh(size)
        # The target size as bench/peers.py computes it from tjbench's ratio.
        _content[key] = (c, peers.ffmpeg_qscale(c, size, w * h * 1.5 / tj["ratio"] * 2, tmp)[0])
    return _content[key]


def at(cmd, host):
    """A command line of bench/peers.py's with the loopback address replaced by host."""
    return [x.replace(LOOPBACK, host) for x in cmd]


class Procs:
    """The processes of one run, each in an end of the link or here, with stderr to a log. Each
    gets SIGKILL from the kernel if the thread that started it ends (setpriv, as linkns.py
    does), and stop() ends them all, bounded in time. The receiver writes its decoded frames to
    fc-benchframes ages (self.ages), started first."""

    def __init__(self, link, build, logdir):
        self.link, self.logdir, self.procs = link, logdir, {}
        self.frames = os.path.join(build, "bench", "fc-benchframes")
        self.ages = None

    def start(self, name, args, end=None, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL):
        cmd = self.link.cmd(end, args) if end else args
        with open(os.path.join(self.logdir, name + ".log"), "w") as log:
            p = subprocess.Popen(linkns._guarded(cmd), stdin=stdin, stdout=stdout, stderr=log)
        self.procs[name] = p
        return p

    def start_ages(self, size, seconds, out):
        self.ages = self.start("ages", [self.frames, "ages", "--size", size, "--seconds",
                                        f"{seconds:g}", "--out", out], stdin=subprocess.PIPE)

    def start_receiver(self, args, end):
        """The receiver, its decoded frames to fc-benchframes ages."""
        self.start("receiver", args, end, stdout=self.ages.stdin)
        self.ages.stdin.close()

    def wait_listening(self, end, port, timeout=10):
        """link.wait_listening, but giving up as soon as one of the processes has exited."""
        deadline = time.monotonic() + timeout
        while True:
            if self.gone():
                raise AssertionError("exited before listening: " + ", ".join(self.gone()))
            try:
                return self.link.wait_listening(end, port, timeout=0.5)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def stop(self):
        """Stops everything but fc-benchframes ages, which then sees its input end and writes
        out what it has (SIGTERM would lose its buffered lines), then ages."""
        bl.stop([p for n, p in self.procs.items() if n != "ages"])
        bl.stop([self.procs.get("ages")])

    def gone(self):
        """The names of the processes that have exited, with their status."""
        return [f"{n} (exit {p.returncode})" for n, p in self.procs.items()
                if p.poll() is not None]

    def said(self, name, lines=3):
        try:
            with open(os.path.join(self.logdir, name + ".log"), errors="replace") as f:
                return " | ".join(l.strip() for l in f.read().splitlines()[-lines:] if l.strip())
        except OSError:
            return ""


def io_bytes(pid, field):
    """rchar or wchar of a process: the bytes it has read or written so far (0 once gone)."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_stamped(procs, link, name, size, fps, live_s, c, q, port):
    """GStreamer or ffmpeg, as bench/peers.py's live runs: the receiver in b (listening), then
    fc-benchframes live and the sender in a. Returns the pid that writes camera frames."""
    host = link.addr("b")
    if name == "gstreamer":
        rc, sc = peers.gst_receiver(port, size, True), peers.gst_sender(port, size, c, True)
    else:
        rc = peers.ffmpeg_receiver(port, size, True)
        sc = peers.ffmpeg_sender(port, size, c, True, q)
    procs.start_receiver(at(rc, host), "b")
    procs.wait_listening("b", port)
    src = procs.start("live", [procs.frames, "live", "--size", size, *c["src"], "--fps",
                               f"{fps:g}", "--seconds", f"{live_s:g}"], stdout=subprocess.PIPE)
    procs.start("sender", at(sc, host), "a", stdin=src.stdout)
    src.stdout.close()
    return src.pid


def start_ustreamer(procs, link, build, size, fps, port):
    """uStreamer on the fake camera in a, as bench/capture.py runs it, and its ffmpeg client in
    b decoding to yuvj420p (which keeps JPEG's full-range luma, where the stamp is)."""
    host = link.addr("a")
    procs.start("ustreamer", [
        "env", f"LD_PRELOAD={os.path.join(build, 'tools/fakecam/libfakecam.so')}",
        f"FAKECAM_FORMATS=yuyv:{size}@{fps:g}", "ustreamer", "--device", "/dev/video0",
        "--resolution", size, "--desired-fps", f"{fps:g}", "--host", host, "--port", str(port),
        "--quality", str(peers.QUALITY), "--format", "YUYV"], "a")
    procs.wait_listening("a", port)
    procs.start_receiver([
        "ffmpeg", "-loglevel", "error", "-nostdin", "-threads", "1", "-flags", "low_delay",
        "-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0", "-f", "mpjpeg",
        "-i", f"http://{host}:{port}/stream", "-f", "rawvideo", "-pix_fmt", "yuvj420p", "-"],
        "b")
    return None


def wait_first_frame(procs, frame_bytes):
    """Monotonic time at which fc-benchframes ages had read a whole frame (polled every 20 ms);
    AssertionError if none came within FIRST_FRAME_S or a process exited first."""
    end = time.monotonic() + FIRST_FRAME_S
    while io_bytes(procs.ages.pid, "rchar") < frame_bytes:
        if procs.gone():
            raise AssertionError("exited before a frame was decoded: " + ", ".join(procs.gone()))
        if time.monotonic() > end:
            raise AssertionError(f"no frame decoded within {FIRST_FRAME_S} s")
        time.sleep(0.02)
    return time.monotonic()


def failed(r, procs, why):
    """r for a run that showed nothing: why, and the last words of the programs."""
    r.update(shown_fps=0.0, frames=0, note=why)
    for n in ("sender", "ustreamer", "receiver"):
        if procs.said(n):
            r["note"] += f"; {n} said: {procs.said(n)}"
    return r


def sample(link, ages_pid, live_pid, frame_bytes):
    """(monotonic time, frames decoded, frames taken from the camera, IP bytes forwarded a->b)."""
    t = time.monotonic()
    return (t, io_bytes(ages_pid, "rchar") // frame_bytes,
            io_bytes(live_pid, "wchar") // frame_bytes if live_pid else 0,
            link.stats()["a2b"]["forwarded_bytes"])


def read_ages(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                t, age = line.split()
                out.append((float(t), float(age)))
    except (OSError, ValueError):
        pass
    return out


def summarize(r, got, first, s0, s1, fps):
    """Fills r with the window's figures; got is fc-benchframes ages' (t, age) lines, t from
    its first frame, which arrived at monotonic time `first`."""
    span = s1[0] - s0[0]
    w0, w1 = s0[0] - first, s1[0] - first
    win = [(t, a) for t, a in got if w0 <= t <= w1]
    ages = sorted(a for _, a in win)
    last = sorted(a for t, a in win if t >= w1 - 1)
    head = sorted(a for t, a in win if t <= w0 + 1)
    r.update(shown_fps=(s1[1] - s0[1]) / span, frames=s1[1] - s0[1],
             age_ms_p50=bl.quantile(ages, 0.5), age_ms_p99=bl.quantile(ages, 0.99),
             age_ms_max=ages[-1] if ages else float("nan"), age_ms_last=bl.quantile(last, 0.5),
             over_budget_pct=100.0 * sum(a > BUDGET_MS for a in ages) / len(ages) if ages
             else float("nan"),
             bytes_per_s=(s1[3] - s0[3]) / span)
    if r["shown_fps"] > 0:
        r["bytes_per_frame"] = r["bytes_per_s"] / r["shown_fps"]
    if s1[2]:
        r["taken_fps"] = (s1[2] - s0[2]) / span
    notes = []
    if len(win) >= 2:
        # Least squares: how fast the ages grew over the window, ms of age per second.
        mt, ma = sum(t for t, _ in win) / len(win), sum(a for _, a in win) / len(win)
        var = sum((t - mt) ** 2 for t, _ in win)
        slope = sum((t - mt) * (a - ma) for t, a in win) / var if var else 0.0
        first_s = bl.quantile(head, 0.5)
        if slope > 50 and r["age_ms_last"] - first_s > 100:
            notes.append(f"ages grew {slope:.0f} ms a second over the window, "
                         f"{first_s:.0f} ms in its first second to {r['age_ms_last']:.0f} in "
                         "its last: frames queue behind the link")
    if r["frames"] and len(win) < 0.9 * r["frames"]:
        notes.append(f"only {len(win)} of {r['frames']} decoded frames had a readable stamp")
    if r["shown_fps"] < 0.9 * fps:
        notes.append(f"{r['shown_fps']:.1f} of the camera's {fps:g} fps shown")
    if notes:
        r["note"] = "; ".join(notes)
    return r


def run_peer(name, link, build, size="1280x720", fps=30, seconds=10, tmp=None, warm=2.0,
             photo=peers.PHOTO):
    """Runs one peer through link (a linkns.Link, started: a is the camera's side) for warm +
    seconds after its first decoded frame; returns its figures (module docstring). Every process
    it starts has ended when it returns or raises. tmp holds the pictures (made once per tmp,
    size and photo) and the run's logs; by default a directory removed at exit."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}: one of {', '.join(PEERS)}")
    build = os.path.abspath(build)
    tmp = tmp or _own_tmp()
    w, h = peers.wh(size)
    frame_bytes = w * h * 3 // 2
    c, q = content(build, size, tmp, photo) if name != "ustreamer" else (None, None)
    logdir = tempfile.mkdtemp(prefix=f"{name}-", dir=tmp)
    agefile = os.path.join(logdir, "ages.txt")
    procs = Procs(link, build, logdir)
    live_s = FIRST_FRAME_S + warm + seconds + 5  # outlives the run: it is stopped, not awaited
    port = bl.free_port()
    r = {"peer": name, "size": size, "fps": fps, "seconds": seconds,
         "tcp_cc": link.run("a", ["sysctl", "-n", "net.ipv4.tcp_congestion_control"])[1].strip()}
    if name == "ffmpeg":
        r["ffmpeg_qscale"] = q
    if name == "ustreamer":
        r["camera_readout_ms"] = round(1000 / fps, 1)
    why = None
    try:
        procs.start_ages(size, live_s + 2, agefile)
        try:
            if name == "ustreamer":
                live = start_ustreamer(procs, link, build, size, fps, port)
            else:
                live = start_stamped(procs, link, name, size, fps, live_s, c, q, port)
            first = wait_first_frame(procs, frame_bytes)
        except AssertionError as e:  # nothing listened, or no frame came
            why = str(e).splitlines()[0]
        else:
            time.sleep(warm)
            s0 = sample(link, procs.ages.pid, live, frame_bytes)
            time.sleep(seconds)
            s1 = sample(link, procs.ages.pid, live, frame_bytes)
            gone = procs.gone()
    finally:
        procs.stop()
    if why:
        return failed(r, procs, why)
    summarize(r, read_ages(agefile), first, s0, s1, fps)
    if gone:
        r["note"] = "; ".join(filter(None, [r.get("note"), "exited during the run: " +
                                            ", ".join(gone)]))
    return r


_tmp = []


def _own_tmp():
    if not _tmp:
        _tmp.append(tempfile.mkdtemp(prefix="fc-linkpeers-"))
        atexit.register(shutil.rmtree, _tmp[0], True)
    return _tmp[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--rate", default="100mbit", help="a->b only, linkemu's units ('off')")
    ap.add_argument("--delay", default="10ms", help="each way")
    ap.add_argument("--loss", help="each way, e.g. 1%%")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30)
    ap.add_argument("--peers", default=",".join(PEERS))
    a = ap.parse_args()
    linkemu = os.path.join(a.build, "tools", "linkemu", "linkemu")
    why = linkns.unavailable(linkemu)
    if why:
        sys.exit(f"linkpeers: {why}")
    both = f"delay={a.delay}" + (f" loss={a.loss}" if a.loss else "")
    with linkns.Link(linkemu, a2b=f"rate={a.rate} {both}", b2a=both) as link:
        for name in a.peers.split(","):
            r = run_peer(name, link, a.build, a.size, a.fps, a.seconds)
            r["link"] = link.control("show")[3:]
            print(json.dumps({k: round(v, 1) if isinstance(v, float) else v
                              for k, v in r.items()}), flush=True)


if __name__ == "__main__":
    main()
