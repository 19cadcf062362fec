"""End to end: the fake camera (tools/fakecam, libfakecam.so) as V4L2 programs nobody here wrote
see it: v4l2-ctl, ffmpeg -f v4l2 and uStreamer, each run under LD_PRELOAD on /dev/video0.

Frames carry the test pattern's stamp (common/stamp.h), read back here from the decoded luma by
read_stamp, which mirrors common/stamp.c. The fake camera's faults (unplug, busy) and a slow
reader's dropped frames are checked through v4l2-ctl and through a small reader that makes the
calls a capture loop makes (poll, non-blocking DQBUF, mmap'd buffers).

In a sanitizer build the library is instrumented and the clients get the sanitizer's runtime
preloaded before it (fc.preload_env), so the fake camera itself runs under ASan+UBSan. Under
TSan each test skips, saying why: clang 14's shared TSan runtime cannot be preloaded. The clients are installed by
tools/check (v4l-utils ffmpeg ustreamer); a missing one is a failure."""
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import fc

LIB = os.path.join(fc.BIN, "tools", "fakecam", "libfakecam.so")
DEV = "/dev/video0"
CELL = 8
STAMP_MAGIC = 0xFC5A
PACKAGES = {"v4l2-ctl": "v4l-utils", "ffmpeg": "ffmpeg", "ustreamer": "ustreamer"}


# ---- the stamp, as common/stamp.c writes it ----

def crc16(data):
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def read_stamp(luma, width, height, step=1, stride=None, offset=0):
    """(seq, capture_ns) from a luma plane, or None: 128 cells of 8x8, row-major, MSB first; a
    cell is a 1 when the mean of its central 4x4 is at least 128."""
    stride = stride or width * step
    per_row = width // CELL
    if per_row < 8 or (128 + per_row - 1) // per_row * CELL > height:
        return None
    msg = bytearray(16)
    for i in range(128):
        x0 = (i % per_row) * CELL
        y0 = (i // per_row) * CELL
        total = 0
        for y in range(y0 + 2, y0 + 6):
            row = offset + y * stride
            for x in range(x0 + 2, x0 + 6):
                total += luma[row + x * step]
        if total >= 128 * 16:
            msg[i // 8] |= 0x80 >> (i % 8)
    if int.from_bytes(msg[0:2], "big") != STAMP_MAGIC:
        return None
    if int.from_bytes(msg[14:16], "big") != crc16(msg[:14]):
        return None
    return int.from_bytes(msg[2:6], "big"), int.from_bytes(msg[6:14], "big")


# ---- running clients ----

class Result:
    """A finished client, shaped like fc.Proc for fc.check's failure report."""

    def __init__(self, name, args, rc, out, err):
        self.name, self.args, self.rc = name, args, rc
        self.out, self.err = out, err

    def output(self):
        return f"exit status {self.rc}\nstderr:\n{self.err[-4000:]}\nstdout:\n{self.out[-4000:]}"


def fake_env(**faults):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKECAM_")}
    # Every client here is a foreign program: in a sanitizer build it gets the runtime first.
    env = fc.preload_env(LIB, foreign=True, env=env)
    env.update({f"FAKECAM_{k.upper()}": str(v) for k, v in faults.items()})
    return env


def client(name, args, timeout=20, fake=True, **faults):
    """Runs a client to the end (under the fake camera unless fake=False); raises if it hangs."""
    exe = shutil.which(args[0])
    if exe is None:
        raise AssertionError(f"{args[0]} is not installed (apt-get install {PACKAGES[args[0]]})")
    env = fake_env(**faults) if fake else None
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = (e.stderr or b"").decode(errors="replace")
        raise AssertionError(f"{name} did not finish within {timeout} s ({' '.join(args)}):\n{err}")
    return Result(name, args, p.returncode, p.stdout.decode(errors="replace"),
                  p.stderr.decode(errors="replace"))


def gray_frames(path, width, height):
    """Decodes a file's frames (without the fake camera) to 8-bit luma planes; returns them and
    the count of bytes left over (0 when every frame is width x height)."""
    # -fps_mode passthrough: each stored frame once. Without it ffmpeg fills the gaps of a
    # capture timed on a busy machine with copies (22 frames decoded from 20, seen under
    # tools/check's parallel tests), and the copies repeat their stamps.
    args = ["ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo",
            "-pix_fmt", "gray", "-"]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    assert p.returncode == 0, f"ffmpeg cannot decode {path}:\n{p.stderr.decode(errors='replace')}"
    raw, size = p.stdout, width * height
    return [raw[i:i + size] for i in range(0, len(raw) - size + 1, size)], len(raw) % size


def split_jpegs(data):
    """The JPEGs of a concatenated MJPEG stream (SOI ... EOI)."""
    out = []
    start = data.find(b"\xff\xd8\xff")
    while start >= 0:
        end = data.find(b"\xff\xd9", start)
        if end < 0:
            break
        out.append(data[start:end + 2])
        start = data.find(b"\xff\xd8\xff", end + 2)
    return out


def dqbuf_lines(text):
    """(seq, ts in us) of each 'cap dqbuf' line of v4l2-ctl --verbose."""
    out = []
    for m in re.finditer(r"cap dqbuf: *\d+ seq: *(\d+) bytesused: *\d+ ts: *(\d+)\.(\d{6})", text):
        out.append((int(m.group(1)), int(m.group(2)) * 1000000 + int(m.group(3))))
    return out


# ---- v4l2-ctl ----

def test_v4l2ctl_lists_formats():
    """v4l2-ctl --list-formats-ext and --all describe a UVC camera with YUYV and MJPEG"""
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--list-formats-ext"])
    out = r.out
    fc.check(r.rc == 0, "v4l2-ctl --list-formats-ext exits 0", r)
    fc.check("'YUYV' (YUYV 4:2:2)" in out and "'MJPG' (Motion-JPEG, compressed)" in out,
             "both formats listed", r)
    mjpg = out[out.find("'MJPG'"):]
    fc.check(all(f"Size: Discrete {s}" in out for s in ("640x480", "1280x720")) and
             "Size: Discrete 1920x1080" in mjpg and "1920x1080" not in out[:out.find("'MJPG'")],
             "the default sizes per format (YUYV to 720p, MJPEG to 1080p)", r)
    fc.check(out.count("Interval: Discrete 0.033s (30.000 fps)") == 5 and
             out.count("Interval: Discrete 0.067s (15.000 fps)") == 5,
             "30 and 15 fps at every size", r)
    r = client("v4l2-ctl", ["v4l2-ctl", "--list-devices"])
    fc.check("freshcam fake camera (usb-fakecam):\n\t/dev/video0" in r.out,
             "v4l2-ctl --list-devices finds it in /dev", r)
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--all"])
    fc.check(r.rc == 0 and re.search(r"Driver name\s*: uvcvideo", r.out) and
             re.search(r"Card type\s*: freshcam fake camera", r.out) and
             re.search(r"Bus info\s*: usb-fakecam", r.out), "v4l2-ctl --all: driver, card, bus", r)
    fc.check(re.search(r"Width/Height\s*: 640/480", r.out) and "Frames per second: 30.000" in r.out
             and "brightness" in r.out, "v4l2-ctl --all: format, rate and controls", r)
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--set-fmt-video=width=1000,height=700,"
                            "pixelformat=MJPG", "--set-parm=17", "--get-fmt-video", "--get-parm"])
    fc.check(re.search(r"Width/Height\s*: 1280/720", r.out) and "Frames per second: 15.000" in r.out,
             "1000x700 at 17 fps snaps to 1280x720 at 15 fps", r)


def test_v4l2ctl_streams_yuyv():
    """v4l2-ctl --stream-mmap: 30 YUYV frames, each stamped with its buffer's sequence and time"""
    w, h, n = 640, 480, 30
    path = os.path.join(fc.TMP, "v4l2ctl.yuyv")
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, f"--set-fmt-video=width={w},height={h},"
                            "pixelformat=YUYV", "--stream-mmap", f"--stream-count={n}",
                            f"--stream-to={path}", "--verbose"])
    fc.check(r.rc == 0, "v4l2-ctl exits 0", r)
    data = open(path, "rb").read() if os.path.exists(path) else b""
    fc.check(len(data) == n * w * h * 2, f"{n} frames of {w}x{h}x2 bytes ({len(data)} bytes)", r)
    bufs = dqbuf_lines(r.out + r.err)
    stamps = [read_stamp(data, w, h, step=2, offset=k * w * h * 2) for k in range(len(data) // (w * h * 2))]
    fc.check(len(bufs) == n and all(stamps), f"every frame stamped ({sum(map(bool, stamps))}/{n})", r)
    if len(bufs) == n and all(stamps):
        fc.check([s[0] for s in stamps] == [b[0] for b in bufs] == list(range(n)),
                 "stamp seq = buffer sequence = 0, 1, 2, ...", r)
        fc.check(all(s[1] == b[1] * 1000 for s, b in zip(stamps, bufs)),
                 "stamp capture time = buffer timestamp (to the microsecond)", r)
        gaps = [(b[1] - a[1]) / 1000 for a, b in zip(bufs, bufs[1:])]
        fc.check(all(g > 0 for g in gaps), "timestamps increase", r)
        # The camera's thread stamps a frame when it wakes to make it: a loaded machine wakes
        # it late, so the spacing is a speed figure.
        fc.check_speed(all(33.0 <= g <= 33.7 for g in gaps),
                       f"timestamps 1/30 s apart ({min(gaps):.3f}..{max(gaps):.3f} ms)", r)
    fc.check("ts-monotonic, ts-src-soe" in r.out + r.err, "monotonic start-of-frame timestamps", r)


def test_v4l2ctl_streams_mjpeg():
    """v4l2-ctl --stream-mmap: 30 MJPEG frames at 1280x720 that decode and carry stamps"""
    w, h, n = 1280, 720, 30
    path = os.path.join(fc.TMP, "v4l2ctl.mjpeg")
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, f"--set-fmt-video=width={w},height={h},"
                            "pixelformat=MJPG", "--stream-mmap", f"--stream-count={n}",
                            f"--stream-to={path}"])
    fc.check(r.rc == 0, "v4l2-ctl exits 0", r)
    jpegs = split_jpegs(open(path, "rb").read() if os.path.exists(path) else b"")
    fc.check(len(jpegs) == n, f"{n} JPEGs in the stream ({len(jpegs)})", r)
    seqs = []
    for k in (0, n - 1):
        if k < len(jpegs):
            one = os.path.join(fc.TMP, f"v4l2ctl-{k}.jpg")
            open(one, "wb").write(jpegs[k])
            frames, rest = gray_frames(one, w, h)
            st = read_stamp(frames[0], w, h) if len(frames) == 1 and not rest else None
            seqs.append(st and st[0])
    # The camera goes on while a late reader holds its buffers, as a real one does, and the
    # stamps skip the frames it dropped (v4l2-ctl says "dropped buffers"): none is dropped only
    # on a machine that is not loaded, a speed figure.
    fc.check(len(seqs) == 2 and seqs[0] == 0 and seqs[1] is not None and seqs[1] >= n - 1,
             f"first and last JPEG decode at {w}x{h} with stamps {seqs}", r)
    fc.check_speed(seqs == [0, n - 1], f"no frame dropped (stamps {seqs})", r)


# ---- ffmpeg ----

def ffmpeg_capture(input_format, w, h, n, tag):
    path = os.path.join(fc.TMP, f"ffmpeg-{tag}.mkv")
    # -c:v copy keeps the camera's own frames (raw YUYV, or its JPEGs) in the file, so what is
    # decoded below is exactly what the fake camera delivered.
    r = client("ffmpeg", ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-f", "v4l2", "-input_format",
                          input_format, "-video_size", f"{w}x{h}", "-i", DEV, "-c:v", "copy",
                          "-frames:v", str(n), path])
    fc.check(r.rc == 0, f"ffmpeg -f v4l2 -input_format {input_format} exits 0", r)
    line = next((l.strip() for l in r.err.splitlines() if "Stream #0:0: Video" in l), "")
    print(f"   ffmpeg says: {line}")
    return r, path, line


def check_ffmpeg_file(r, path, w, h, n):
    frames, rest = gray_frames(path, w, h) if os.path.exists(path) else ([], 0)
    fc.check(len(frames) == n and rest == 0, f"{n} frames of {w}x{h} decode ({len(frames)})", r)
    stamps = [read_stamp(f, w, h) for f in frames]
    fc.check(stamps and all(stamps), f"every frame stamped ({sum(map(bool, stamps))}/{len(stamps)})", r)
    if stamps and all(stamps):
        seqs = [s[0] for s in stamps]
        times = [s[1] for s in stamps]
        fc.check(all(b > a for a, b in zip(seqs, seqs[1:])) and
                 all(b > a for a, b in zip(times, times[1:])),
                 f"sequence numbers and capture times increase ({seqs[0]}..{seqs[-1]})", r)


def test_ffmpeg_yuyv():
    """ffmpeg -f v4l2 -input_format yuyv422 records 20 stamped 640x480 frames"""
    r, path, line = ffmpeg_capture("yuyv422", 640, 480, 20, "yuyv")
    fc.check("yuyv422, 640x480" in line and "30 fps" in line, "input stream: yuyv422 640x480 30 fps", r)
    check_ffmpeg_file(r, path, 640, 480, 20)


def test_ffmpeg_mjpeg():
    """ffmpeg -f v4l2 -input_format mjpeg records 20 stamped 1280x720 JPEG frames"""
    r, path, line = ffmpeg_capture("mjpeg", 1280, 720, 20, "mjpeg")
    fc.check("mjpeg" in line and "1280x720" in line and "yuvj422p" in line,
             "input stream: mjpeg 4:2:2 1280x720", r)
    check_ffmpeg_file(r, path, 1280, 720, 20)


# ---- uStreamer ----

def fetch(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except (urllib.error.URLError, OSError):
        return None, b""


def test_ustreamer_snapshot():
    """ustreamer serves /snapshot from the fake camera: a stamped JPEG of the right size"""
    if shutil.which("ustreamer") is None:
        raise AssertionError("ustreamer is not installed (apt-get install ustreamer)")
    w, h = 640, 480
    port = fc.free_port()
    u = fc.Proc("ustreamer", ["ustreamer", "--device", DEV, "--host", "127.0.0.1", "--port",
                              str(port), "--resolution", f"{w}x{h}"], env=fake_env())
    fc.wait_listening(port, timeout=5)
    stamp = jpeg = None
    end = time.monotonic() + 10
    while time.monotonic() < end and not stamp:
        status, jpeg = fetch(f"http://127.0.0.1:{port}/snapshot")
        if status == 200 and jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9"):
            path = os.path.join(fc.TMP, "ustreamer.jpg")
            open(path, "wb").write(jpeg)
            frames, rest = gray_frames(path, w, h)
            if len(frames) == 1 and not rest:
                stamp = read_stamp(frames[0], w, h)
        if not stamp:
            time.sleep(0.2)
    fc.check(stamp is not None, f"/snapshot is a {w}x{h} JPEG carrying a stamp {stamp}", u)
    status, state = fetch(f"http://127.0.0.1:{port}/state")
    src = json.loads(state or b"{}").get("result", {}).get("source", {})
    fc.check(src.get("online") and src.get("resolution") == {"width": w, "height": h},
             f"/state: online at {w}x{h} ({src})", u)
    rc = u.stop(timeout=10)
    out = u.output()
    for line in out.splitlines():
        if any(k in line for k in ("Using resolution", "Using pixelformat", "HW FPS", "buffers")):
            print(f"   ustreamer says: {line.strip()}")
    fc.check(rc == 0, "ustreamer stops on SIGTERM and exits 0", u)
    fc.check("Capturing started" in out and "ERROR" not in out, "ustreamer logs no error", u)


# ---- faults and slow readers ----

def test_unplug_ends_v4l2ctl():
    """FAKECAM_UNPLUG_AFTER=10: v4l2-ctl gets 10 frames, then 'No such device', no hang"""
    start = time.monotonic()
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--stream-mmap", "--stream-count=100",
                            "--verbose"], timeout=10, unplug_after=10)
    took = time.monotonic() - start
    bufs = dqbuf_lines(r.out + r.err)
    fc.check("VIDIOC_DQBUF: failed: No such device" in r.out + r.err,
             "DQBUF fails with ENODEV after the unplug", r)
    fc.check([b[0] for b in bufs] == list(range(10)), f"exactly frames 0..9 ({len(bufs)})", r)
    fc.check_speed(took < 3, f"v4l2-ctl ends soon after ({took:.1f} s)", r)


def test_busy():
    """FAKECAM_BUSY=1: opening works, streaming fails with 'Device or resource busy'"""
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--stream-mmap", "--stream-count=5"],
               timeout=10, busy=1)
    fc.check("Device or resource busy" in r.out + r.err, "v4l2-ctl --stream-mmap says busy", r)
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--all"], busy=1)
    fc.check(r.rc == 0 and "uvcvideo" in r.out, "v4l2-ctl --all still works on a busy camera", r)


def test_mjpeg_faults():
    """FAKECAM_NO_DHT=1 FAKECAM_CORRUPT_EVERY=3: no Huffman tables; every third JPEG cut short"""
    w, h, n = 640, 480, 6
    path = os.path.join(fc.TMP, "faults.mjpeg")
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, f"--set-fmt-video=width={w},height={h},"
                            "pixelformat=MJPG", "--stream-mmap", f"--stream-count={n}",
                            f"--stream-to={path}"], no_dht=1, corrupt_every=3)
    data = open(path, "rb").read() if os.path.exists(path) else b""
    fc.check(data.count(b"\xff\xd8\xff") == n and data.count(b"\xff\xd9") == n - n // 3,
             f"{n} frames, {n // 3} of them without an EOI", r)
    fc.check(b"\xff\xc4" not in data, "no DHT segment in any frame", r)
    first = os.path.join(fc.TMP, "faults-0.jpg")  # frame 0 is whole (2 and 5 are cut)
    open(first, "wb").write(data[:data.find(b"\xff\xd9") + 2])
    frames, rest = gray_frames(first, w, h)
    fc.check(len(frames) == 1 and not rest and read_stamp(frames[0], w, h) is not None,
             "a frame without DHT still decodes (standard tables) and carries its stamp", r)


def test_slow_reader_drops():
    """v4l2-ctl sleeping 1 s with 2 buffers: the camera drops frames, the sequence shows the gap"""
    r = client("v4l2-ctl", ["v4l2-ctl", "-d", DEV, "--stream-mmap=2", "--stream-count=15",
                            "--stream-sleep=10", "--verbose"], timeout=15)
    bufs = dqbuf_lines(r.out + r.err)
    gaps = [b[0] - a[0] for a, b in zip(bufs, bufs[1:])]
    fc.check(len(bufs) == 15 and max(gaps, default=0) >= 20 and gaps.count(1) >= 10,
             f"one gap of about 30 frames, the rest consecutive (gaps {gaps})", r)
    fc.check(re.search(r"dropped: (2\d|3\d)", r.out + r.err),
             "v4l2-ctl itself counts the dropped frames", r)


# A capture loop as a program writes it, in Python (its calls go through libc: fcntl.ioctl,
# mmap, select.poll), printing one JSON line per event.
READER = r'''
import errno, fcntl, json, mmap, os, select, stat, struct, sys, time
W, H, FRAMES, PAUSE, UNPLUG = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
def iowr(nr, size): return (3 << 30) | (size << 16) | (ord("V") << 8) | nr
def iow(nr, size): return (1 << 30) | (size << 16) | (ord("V") << 8) | nr
REQBUFS, QUERYBUF, QBUF, DQBUF, STREAMON = iowr(8, 20), iowr(9, 88), iowr(15, 88), iowr(17, 88), iow(18, 4)
def out(**k): print(json.dumps(k), flush=True)
def buf(i=0):
    b = bytearray(88)
    struct.pack_into("II", b, 0, i, 1)
    struct.pack_into("I", b, 60, 1)
    return b
def err(f):
    try:
        f()
        return 0
    except OSError as e:
        return e.errno
st = os.stat("/dev/video0")
out(ev="stat", chr=stat.S_ISCHR(st.st_mode), major=os.major(st.st_rdev))
fd = os.open("/dev/video0", os.O_RDWR | os.O_NONBLOCK)
rb = bytearray(struct.pack("IIII", 2, 1, 1, 0) + bytes(4))
fcntl.ioctl(fd, REQBUFS, rb, True)
maps = []
for i in range(struct.unpack_from("I", rb)[0]):
    b = buf(i)
    fcntl.ioctl(fd, QUERYBUF, b, True)
    off, length = struct.unpack_from("I", b, 64)[0], struct.unpack_from("I", b, 72)[0]
    maps.append(mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ, offset=off))
    fcntl.ioctl(fd, QBUF, b, True)
fcntl.ioctl(fd, STREAMON, struct.pack("I", 1))
out(ev="start", nbufs=len(maps), eagain=err(lambda: fcntl.ioctl(fd, DQBUF, buf(), True)) == errno.EAGAIN)
p = select.poll()
p.register(fd, select.POLLIN | select.POLLOUT | select.POLLPRI)
for k in range(FRAMES):
    ev = p.poll(3000)
    b = buf()
    fcntl.ioctl(fd, DQBUF, b, True)
    idx, used, flags = struct.unpack_from("IIII", b, 0)[0], struct.unpack_from("I", b, 8)[0], struct.unpack_from("I", b, 12)[0]
    sec, usec = struct.unpack_from("qq", b, 24)
    seq = struct.unpack_from("I", b, 56)[0]
    out(ev="frame", seq=seq, ts_us=sec * 1000000 + usec, used=used, flags=flags,
        revents=ev[0][1] if ev else 0, stamp=read_stamp(maps[idx], W, H, step=2))
    time.sleep(PAUSE)
    fcntl.ioctl(fd, QBUF, b, True)
if UNPLUG:
    t0 = time.monotonic()
    while True:
        ev = p.poll(3000)
        if not ev or ev[0][1] & select.POLLHUP:
            break
        b = buf()
        if err(lambda: fcntl.ioctl(fd, DQBUF, b, True)) == 0:
            fcntl.ioctl(fd, QBUF, b, True)
    out(ev="hup", revents=ev[0][1] if ev else 0, after=time.monotonic() - t0,
        dqbuf=err(lambda: fcntl.ioctl(fd, DQBUF, buf(), True)),
        reopen=err(lambda: os.open("/dev/video0", os.O_RDWR)),
        stat=err(lambda: os.stat("/dev/video0")))
    for m in maps:
        m.close()
    os.close(fd)
    time.sleep(0.7)
    fd2 = os.open("/dev/video0", os.O_RDWR)
    out(ev="replug", chr=stat.S_ISCHR(os.fstat(fd2).st_mode))
'''


def run_reader(frames, pause, unplug, **faults):
    source = f"CELL, STAMP_MAGIC = {CELL}, {STAMP_MAGIC}\n" + inspect.getsource(crc16) + \
        inspect.getsource(read_stamp) + READER
    args = [sys.executable, "-c", source, "640", "480", str(frames), str(pause), "1" if unplug else "0"]
    r = client("reader", args, timeout=20, **faults)
    r.args = ["python3", "-c", "READER", *args[3:]]
    events = []
    for line in r.out.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return r, events


def test_reader_poll_and_drops():
    """a capture loop: stat says char 81, EAGAIN before the first frame, POLLIN and never POLLOUT,
    stamps in the mmap'd buffers, sequence gaps when it reads slowly"""
    r, ev = run_reader(6, 0.15, False)
    fc.check(r.rc == 0, "the reader runs to the end", r)
    first = ev[0] if ev else {}
    fc.check(first.get("chr") and first.get("major") == 81, "stat: character device, major 81", r)
    start = next((e for e in ev if e["ev"] == "start"), {})
    fc.check(start.get("nbufs") == 2 and start.get("eagain"), "2 buffers; DQBUF before a frame: EAGAIN", r)
    frames = [e for e in ev if e["ev"] == "frame"]
    fc.check(len(frames) == 6, f"6 frames dequeued ({len(frames)})", r)
    fc.check(all(f["revents"] & 1 and not f["revents"] & 4 for f in frames),
             "the fd polls readable, never writable", r)
    fc.check(all(f["flags"] & 0x2000 and f["flags"] & 0x10000 for f in frames),
             "TIMESTAMP_MONOTONIC | TSTAMP_SRC_SOE", r)
    fc.check(all(f["stamp"] == [f["seq"], f["ts_us"] * 1000] and f["used"] == 640 * 480 * 2
                 for f in frames), "each buffer's stamp = its sequence and timestamp", r)
    seqs = [f["seq"] for f in frames]
    # Frames 0 and 1 fill the two buffers queued at the start; from then on each frame waits for
    # the reader to give a buffer back, and the camera drops the frames in between.
    gaps = [b - a for a, b in zip(seqs[1:], seqs[2:])]
    fc.check(seqs[:2] == [0, 1] and gaps and min(gaps) >= 3,
             f"a reader taking 150 ms per frame misses frames: seq {seqs}", r)


def test_reader_unplug_replug():
    """unplug after 4 frames: the fd polls POLLHUP, DQBUF ENODEV, the path is gone; it comes back"""
    r, ev = run_reader(4, 0, True, unplug_after=4, replug_after=0.5)
    fc.check(r.rc == 0, "the reader runs to the end", r)
    frames = [e["seq"] for e in ev if e["ev"] == "frame"]
    fc.check(frames == [0, 1, 2, 3], f"frames 0..3 before the unplug ({frames})", r)
    hup = next((e for e in ev if e["ev"] == "hup"), {})
    fc.check(hup.get("revents", 0) & 0x10, f"POLLHUP ({hup})", r)
    fc.check_speed(hup.get("after", 9) < 1, f"POLLHUP within a second ({hup})", r)
    fc.check(hup.get("dqbuf") == 19 and hup.get("reopen") == 2 and hup.get("stat") == 2,
             "then DQBUF: ENODEV; open and stat: ENOENT", r)
    fc.check(any(e["ev"] == "replug" and e["chr"] for e in ev),
             "after FAKECAM_REPLUG_AFTER a new open works", r)


def main():
    if not os.path.exists(LIB):
        fc.skip_all(f"{LIB} is not built (-DFC_BUILD_SENDER=OFF?)")
    fc.main(test_v4l2ctl_lists_formats, test_v4l2ctl_streams_yuyv, test_v4l2ctl_streams_mjpeg,
            test_ffmpeg_yuyv, test_ffmpeg_mjpeg, test_ustreamer_snapshot, test_unplug_ends_v4l2ctl,
            test_busy, test_mjpeg_faults, test_slow_reader_drops, test_reader_poll_and_drops,
            test_reader_unplug_replug)


if __name__ == "__main__":
    main()
