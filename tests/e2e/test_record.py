"""End to end: freshcam-view --record, checked against what the viewer counted and what the
sender drew.

The sender's test pattern stamps each picture with its sequence number before encoding
(common/stamp.h), so a recorded JPEG, decoded by ffmpeg, says which frame it is; the viewer counts
every JPEG byte it receives off the wire. A recording is right when it holds exactly the accepted
frames, each a whole JPEG whose stamp matches the sequence number listed for it, and its bytes add
up to the bytes received: nothing lost, added, re-encoded or swapped. ffprobe (from ffmpeg, a test
package) reads the containers. Frames are never rejected here (--max-age 2000), so every frame
received is an accepted one."""
import csv
import glob
import json
import os
import signal
import subprocess
import threading
import time
import zlib

import fc
from test_fakecam import read_stamp  # the stamp reader mirroring common/stamp.c

W, H = 640, 480


def stream(*viewer_args, seconds=None, name="view"):
    """A sender, and a viewer of it with the given options; returns (sender, viewer)."""
    port = fc.free_port()
    s = fc.sender("--size", f"{W}x{H}", "--quiet", port=port, name=f"{name}-send")
    fc.wait_listening(port)
    extra = ["--max-age", "2000", "--quiet"] + (["--seconds", str(seconds)] if seconds else [])
    v = fc.viewer(port, *extra, *viewer_args, name=name)
    return s, v


def ffprobe(path):
    """ffprobe's streams, packets and format of a file as JSON, or None when it cannot read it."""
    rc, out = fc.run(["ffprobe", "-v", "error", "-show_streams", "-show_packets", "-show_format",
                      "-of", "json", path])
    if rc != 0:
        print(out)
        return None
    return json.loads(out)


def stamps(path):
    """The stamped sequence numbers of every frame ffmpeg decodes from path (None: no stamp).
    Each frame once, as stored: ffmpeg's default would resample a variable rate, repeating or
    dropping frames."""
    args = ["ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo",
            "-pix_fmt", "gray", "-"]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, f"ffmpeg cannot decode {path}: {p.stderr.decode(errors='replace')}"
    raw, size = p.stdout, W * H
    assert len(raw) % size == 0, f"{path}: decoded frames are not {W}x{H}"
    return [(read_stamp(raw[i:i + size], W, H) or (None,))[0] for i in range(0, len(raw), size)]


def check_directory(d, sm, v):
    """The directory recording against the viewer's summary sm; returns the index rows."""
    with open(os.path.join(d, "index.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.jpg")))
    n = sm["accepted"]
    fc.check(n > 0 and len(files) == n and len(rows) == n and sm["recorded"] == n,
             f"one file and one index line per accepted frame ({len(files)} files, {len(rows)} "
             f"lines, {n} accepted, {sm['recorded']} recorded)", v)
    fc.check([r["file"] for r in rows] == files == [f"{i:08d}.jpg" for i in range(1, n + 1)],
             "files numbered 00000001.jpg on, in index order", v)
    bad = []
    total = 0
    for r in rows:
        with open(os.path.join(d, r["file"]), "rb") as f:
            data = f.read()
        total += len(data)
        if (len(data) != int(r["bytes"]) or zlib.crc32(data) != int(r["crc32"], 16)
                or not data.startswith(b"\xff\xd8") or not data.endswith(b"\xff\xd9")
                or (int(r["width"]), int(r["height"])) != (W, H)):
            bad.append(r["file"])
    fc.check(not bad, f"every file is a whole JPEG whose size and CRC-32 match the index ({bad[:5]})",
             v)
    seqs = [int(r["seq"]) for r in rows]
    rel = [int(r["recv_rel_ns"]) for r in rows]
    fc.check(all(b > a for a, b in zip(seqs, seqs[1:])), "sequence numbers strictly increase", v)
    fc.check(rel[0] == 0 and all(b > a for a, b in zip(rel, rel[1:])),
             "receive times start at 0 and increase", v)
    now = time.time_ns()
    fc.check(all(now - 60e9 < int(r["recv_unix_ns"]) <= now for r in rows),
             "wall-clock receive times are of this run", v)
    fc.check(all(0 < float(r["age_bound_ms"]) <= 2000 for r in rows),
             "every age bound within the budget", v)
    return rows, total


def test_directory():
    """--record DIR: exactly the accepted frames, each the sender's frame byte for byte"""
    d = os.path.join(fc.TMP, "rec")
    s, v = stream("--record", d, seconds=3)
    fc.check(v.wait(20) == 0, "viewer exits 0", v)
    s.stop()
    sm = v.summary()
    rows, total = check_directory(d, sm, v)
    fc.check(sm["rejected"] == 0 and total == sm["bytes"],
             f"the files hold every byte received ({total} of {sm['bytes']})", v)
    seen = stamps(os.path.join(d, "%08d.jpg"))
    fc.check(seen == [int(r["seq"]) for r in rows],
             f"each file's picture carries the sequence number listed for it "
             f"({sum(a != int(r['seq']) for a, r in zip(seen, rows))} differ)", v)
    fc.check(sm["record_dropped"] == 0 and not sm["record_stopped"], "nothing left unwritten", v)
    fc.check(f"recording: {len(rows)} frames kept in {d}/" in v.output(), "the viewer says so", v)


def test_mkv_sigterm():
    """--record x.mkv stopped by SIGTERM: a finished MJPEG file of exactly the accepted frames"""
    path = os.path.join(fc.TMP, "rec.mkv")
    s, v = stream("--record", path)
    time.sleep(3)
    fc.check(v.stop(signal.SIGTERM) == 0, "viewer exits 0 on SIGTERM", v)
    s.stop()
    sm = v.summary()
    info = ffprobe(path)
    if not fc.check(info is not None, "ffprobe reads the file", v):
        return
    st = info["streams"]
    pk = [p for p in info["packets"] if p["stream_index"] == 0]
    pts = [int(p["pts"]) for p in pk]
    fc.check(len(st) == 1 and st[0]["codec_name"] == "mjpeg"
             and (st[0]["width"], st[0]["height"]) == (W, H),
             f"one stream, mjpeg {W}x{H} ({[(x['codec_name'], x['width'], x['height']) for x in st]})",
             v)
    fc.check(len(pk) == sm["accepted"] == sm["recorded"] > 0,
             f"one packet per accepted frame ({len(pk)} packets, {sm['accepted']} accepted)", v)
    fc.check(all(b > a for a, b in zip(pts, pts[1:])), "timestamps strictly increase", v)
    fc.check(sum(int(p["size"]) for p in pk) == sm["bytes"],
             "the packets hold every byte received", v)
    dur = float(info["format"].get("duration", "0"))
    fc.check(2.0 < dur < 4.0, f"the trailer is written: duration {dur} s for 3 s", v)
    seen = stamps(path)
    fc.check(len(seen) == len(pk) and None not in seen
             and all(b > a for a, b in zip(seen, seen[1:])),
             "every frame decodes to a stamped picture, in order", v)


def test_mkv_sigkill():
    """a viewer killed with SIGKILL leaves a .mkv that ffprobe reads up to its last frame"""
    path = os.path.join(fc.TMP, "killed.mkv")
    s, v = stream("--record", path)
    time.sleep(2.5)
    recorded = max((l.get("recorded", 0) for l in v.stats()), default=0)
    v.stop(signal.SIGKILL)
    s.stop()
    info = ffprobe(path)
    if not fc.check(info is not None, "ffprobe reads the killed file", v):
        return
    pk = [p for p in info["packets"] if p["stream_index"] == 0]
    pts = [int(p["pts"]) for p in pk]
    fc.check(info["streams"][0]["codec_name"] == "mjpeg" and len(pk) >= max(recorded, 1),
             f"{len(pk)} packets readable, at least the {recorded} reported written", v)
    fc.check(all(b > a for a, b in zip(pts, pts[1:])), "timestamps strictly increase", v)
    rc, out = fc.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"])
    fc.check(rc == 0, f"ffmpeg decodes it to the end{out and ': ' + out[-300:]}", v)


def test_disk_full():
    """a full disk (1 MB tmpfs): recording stops, said once with the count; the stream goes on"""
    mnt = os.path.join(fc.TMP, "small")
    out = os.path.join(fc.TMP, "small-copy")
    os.makedirs(mnt)
    os.makedirs(out)
    # A private mount namespace (and user namespace, so that no root is needed) for the tmpfs;
    # the recording is copied out before the namespace goes away.
    rc, why = fc.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {mnt}"])
    if rc != 0:
        print(f"skip: cannot mount a tmpfs here ({why.strip()})")
        return
    port = fc.free_port()
    s = fc.sender("--size", f"{W}x{H}", "--quiet", port=port, name="full-send")
    fc.wait_listening(port)
    vj = os.path.join(fc.TMP, "full.jsonl")
    view = [os.path.join(fc.BIN, "freshcam-view"), "--headless", f"127.0.0.1:{port}",
            "--max-age", "2000", "--quiet", "--seconds", "3", "--stats-json", vj,
            "--record", os.path.join(mnt, "rec")]
    script = ('mount -t tmpfs -o size=1m tmpfs "$0" && "$@"; rc=$?; cp -a "$0/rec" '
              f'"{out}/"; exit $rc')
    v = fc.Proc("full-view", ["unshare", "-rm", "sh", "-c", script, mnt] + view, vj)
    fc.check(v.wait(20) == 0, "viewer exits 0 with the disk full", v)
    s.stop()
    sm = v.summary()
    text = v.output()
    fc.check(f"recording stopped: {mnt}/rec/" in text and "No space left on device" in text
             and "frames not written" in text,
             "the viewer says recording stopped, where, why and how many frames were lost", v)
    fc.check(sm["record_stopped"] and 0 < sm["recorded"] < sm["accepted"]
             and sm["recorded"] + sm["record_dropped"] == sm["accepted"],
             f"recorded {sm['recorded']} + not written {sm['record_dropped']} = accepted "
             f"{sm['accepted']}", v)
    # (The display takes the newest frame: a slow one, under TSan say, skips some by design.)
    fc.check(sm["shown"] >= 0.8 * sm["accepted"],
             f"the stream went on being shown ({sm['shown']} of {sm['accepted']})", v)
    d = os.path.join(out, "rec")
    with open(os.path.join(d, "index.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.jpg")))
    ok = all(zlib.crc32(open(os.path.join(d, r["file"]), "rb").read()) == int(r["crc32"], 16)
             for r in rows)
    fc.check(len(rows) == len(files) == sm["recorded"] and ok,
             f"the index lists exactly the {len(files)} complete files, CRCs matching", v)


def test_slow_disk():
    """a disk that stalls (a FIFO read only after 3 s): the viewer says recording fell behind"""
    path = os.path.join(fc.TMP, "slow.mkv")
    copy = os.path.join(fc.TMP, "slow-copy.mkv")
    os.mkfifo(path)
    # A reader must exist for the viewer's open to return; it reads nothing until told to.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    go = threading.Event()

    def drain():
        go.wait(20)
        os.set_blocking(fd, True)
        with open(copy, "wb") as out:
            while chunk := os.read(fd, 1 << 16):
                out.write(chunk)
        os.close(fd)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    s, v = stream("--record", path, seconds=4, name="slow")
    time.sleep(3.3)
    go.set()
    fc.check(v.wait(20) == 0, "viewer exits 0", v)
    s.stop()
    t.join(10)
    sm = v.summary()
    fc.check("recording fell behind:" in v.output() and "frames not written" in v.output(),
             "the viewer says recording fell behind, and how many frames were not written", v)
    fc.check(sm["record_dropped"] > 0 and not sm["record_stopped"]
             and sm["recorded"] + sm["record_dropped"] == sm["accepted"],
             f"recorded {sm['recorded']} + not written {sm['record_dropped']} = accepted "
             f"{sm['accepted']}", v)
    fc.check(sm["shown"] >= 0.8 * sm["accepted"],
             f"the stream went on being shown ({sm['shown']} of {sm['accepted']})", v)
    info = ffprobe(copy)
    n = len(info["packets"]) if info else -1
    fc.check(n == sm["recorded"], f"what was written reads back whole ({n} packets)", v)


if __name__ == "__main__":
    fc.main(test_directory, test_mkv_sigterm, test_mkv_sigkill, test_disk_full, test_slow_disk)
