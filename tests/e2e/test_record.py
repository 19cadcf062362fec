"""End to end: freshcam-view --record, checked against what the viewer counted and what the
sender drew.

The sender's test pattern stamps each picture with its sequence number before encoding
(common/stamp.h), so a recorded JPEG, decoded by ffmpeg, says which frame it is; the viewer counts
every JPEG byte it receives off the wire. A recording is right when it holds exactly the accepted
frames, each a whole JPEG whose stamp matches the sequence number listed for it, and its bytes add
up to the bytes received: nothing lost, added, re-encoded or swapped. ffprobe (from ffmpeg, a test
package) reads the containers. Frames are never rejected here (--max-age 2000), so every frame
received is an accepted one.

Frames come in renditions: a fresh viewer starts on a smaller picture (the sides halved) and the
sender climbs to the full one within a fraction of a second. Every one of them must be kept as
it came, whatever its size: the index says each one's size (checked against the JPEG's own
header), its JPEG quality (checked against the JPEG's own quantisation table) and the picture's
size, and a video file holds them all, which ffmpeg decodes each at its own size."""
import csv
import glob
import json
import os
import re
import signal
import struct
import subprocess
import threading
import time
import zlib

import fc
from test_fakecam import read_stamp  # the stamp reader mirroring common/stamp.c

W, H = 640, 480
CELL = 8  # the stamp's cell at the full picture's size (common/stamp.h)


def stream(*viewer_args, seconds=None, name="view"):
    """A sender, and a viewer of it with the given options; returns (sender, viewer)."""
    port = fc.free_port()
    s = fc.sender("--size", f"{W}x{H}", "--quiet", port=port, name=f"{name}-send")
    fc.wait_listening(port)
    extra = ["--max-age", "2000", "--quiet"] + (["--seconds", str(seconds)] if seconds else [])
    v = fc.viewer(port, *extra, *viewer_args, name=name)
    return s, v


def ffprobe(path, show=("-show_streams", "-show_packets", "-show_format")):
    """ffprobe's streams, packets and format of a file (or what show asks) as JSON, or None
    when it cannot read it."""
    rc, out = fc.run(["ffprobe", "-v", "error", *show, "-of", "json", path])
    if rc != 0:
        print(out)
        return None
    return json.loads(out)


# ---- a JPEG's own header: its size and the quality its tables were made for ----

ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34,
          27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
          44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]
# The JPEG standard's luminance table (Annex K), natural order, as libjpeg scales it by quality.
STD_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40,
            57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35,
            55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112,
            100, 103, 99]


def luma_table(quality):
    """libjpeg's luminance table for a quality (jpeg_set_quality, baseline), natural order."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(max((q * scale + 50) // 100, 1), 255) for q in STD_LUMA]


def jpeg_info(data):
    """(width, height, quality) from a JPEG's own markers; quality is the libjpeg quality whose
    luminance table it carries, None when no quality makes that table (a camera's own)."""
    i, size, table = 2, None, None
    while i + 4 <= len(data) and data[i] == 0xFF and (size is None or table is None):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker == 0xDB and data[i + 4] == 0:  # an 8-bit table 0: luminance
            zz = data[i + 5:i + 69]
            table = [0] * 64
            for k in range(64):
                table[ZIGZAG[k]] = zz[k]
        elif marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            size = (w, h)
        elif marker == 0xDA:
            break
        i += 2 + length
    quality = next((q for q in range(1, 101) if luma_table(q) == table), None)
    return (*size, quality) if size else (0, 0, None)


def decode_gray(paths, w, h):
    """The luma of JPEG files of one size w x h, decoded by ffmpeg, one bytes object per file.

    One ffmpeg reads them all (its concat demuxer, each file one frame): an ffmpeg per frame cost
    more CPU than the recording it checks. A file that does not decode to exactly one w x h
    picture makes the count or the length differ, and the whole batch fails."""
    listing = os.path.join(fc.TMP, "decode.txt")
    with open(listing, "w") as f:
        f.writelines(f"file '{p}'\n" for p in paths)
    args = ["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", listing, "-fps_mode",
            "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"]  # each stored frame once
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, f"ffmpeg cannot decode {paths}: {p.stderr.decode(errors='replace')}"
    assert len(p.stdout) == len(paths) * w * h, \
        f"ffmpeg decoded {len(p.stdout)} bytes from {len(paths)} {w}x{h} JPEGs"
    return [p.stdout[i * w * h:(i + 1) * w * h] for i in range(len(paths))]


def stamp_in(raw, w):
    """The stamped sequence number in the luma raw of a w-wide rendition of the W x H picture
    (each side divided by 1 or 2), or None when it has no readable stamp."""
    f = W // w
    # The stamp's band, scaled back to the full picture's cells (nearest neighbour).
    band = 2 * CELL
    rows = bytearray()
    for y in range(band):
        row = raw[(y // f) * w:(y // f) * w + w]
        rows += bytes(b for b in row for _ in range(f))
    return (read_stamp(bytes(rows), W, band) or (None,))[0]


def stamps_of(files):
    """The stamped sequence number of each (path, w, h): a w x h rendition of the W x H picture;
    None when it has no readable stamp, "small" when its cells are under 4 pixels (a quarter or
    an eighth of each side: common/stamp.h says JPEG blurs those), which is not checked here."""
    out = ["small"] * len(files)
    sizes = {(w, h) for _, w, h in files if W // w in (1, 2) and w * (W // w) == W}
    for w, h in sizes:
        at = [i for i, (_, fw, fh) in enumerate(files) if (fw, fh) == (w, h)]
        for i, raw in zip(at, decode_gray([files[i][0] for i in at], w, h)):
            out[i] = stamp_in(raw, w)
    return out


def check_frames(files, rows, v, what):
    """Each file (a recorded JPEG, read back) against its index row (or its expected seq and
    size): a whole JPEG of the size and quality listed, whose stamp is the sequence number
    listed. Returns how many were of each size."""
    bad_size, bad_stamp, sizes, own = [], [], {}, []
    for path, r in zip(files, rows):
        with open(path, "rb") as f:
            data = f.read()
        w, h, q = jpeg_info(data)
        own.append((path, w, h))
        sizes[(w, h)] = sizes.get((w, h), 0) + 1
        listed_q = int(r["quality"]) if "quality" in r else q
        if (w, h) != (int(r["width"]), int(r["height"])) or (listed_q and q != listed_q):
            bad_size.append((os.path.basename(path), (w, h, q), r["width"], r["height"],
                             r.get("quality")))
    for (path, _, _), r, seq in zip(own, rows, stamps_of(own)):
        if seq != "small" and seq != int(r["seq"]):
            bad_stamp.append((os.path.basename(path), r["seq"], seq))
    fc.check(not bad_size, f"{what}: each JPEG's own size and quality are the ones listed "
             f"({bad_size[:3]})", v)
    fc.check(not bad_stamp, f"{what}: each picture carries the sequence number listed for it "
             f"({len(bad_stamp)} differ: {bad_stamp[:3]})", v)
    return sizes


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
                or not data.startswith(b"\xff\xd8") or not data.endswith(b"\xff\xd9")):
            bad.append(r["file"])
    fc.check(not bad, f"every file is a whole JPEG whose size and CRC-32 match the index ({bad[:5]})",
             v)
    fc.check(all((int(r["src_width"]), int(r["src_height"])) == (W, H)
                 and int(r["width"]) <= W and int(r["height"]) <= H
                 and 1 <= int(r["quality"]) <= 100 for r in rows),
             f"every frame is the {W}x{H} picture or a smaller rendition of it, with a quality", v)
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


def mix(sm):
    """The viewer's summary renditions as {(width, height): frames}."""
    out = {}
    for e in sm["renditions"]:
        out[(e["width"], e["height"])] = out.get((e["width"], e["height"]), 0) + e["frames"]
    return out


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
    sizes = check_frames([os.path.join(d, r["file"]) for r in rows], rows, v, "directory")
    fc.check(sizes == mix(sm), f"the sizes recorded are the renditions the viewer counted "
             f"({sizes} vs {mix(sm)})", v)
    fc.check(sm["record_dropped"] == 0 and not sm["record_stopped"], "nothing left unwritten", v)
    fc.check(f"recording: {len(rows)} frames kept in {d}/" in v.output(), "the viewer says so", v)


def extract(path, name):
    """The packets of a video file as files, byte for byte (ffmpeg's stream copy to numbered
    images): returns their paths in order."""
    out = os.path.join(fc.TMP, name)
    os.makedirs(out)
    rc, text = fc.run(["ffmpeg", "-v", "error", "-i", path, "-c", "copy", "-f", "image2",
                       os.path.join(out, "%08d.jpg")])
    assert rc == 0, f"ffmpeg cannot copy the packets out of {path}: {text}"
    return sorted(glob.glob(os.path.join(out, "*.jpg")))


def test_mkv_sigterm():
    """--record x.mkv stopped by SIGTERM: every accepted frame, whatever its size, decodable"""
    path = os.path.join(fc.TMP, "rec.mkv")
    s, v = stream("--record", path)
    time.sleep(3)
    fc.check(v.stop(signal.SIGTERM) == 0, "viewer exits 0 on SIGTERM", v)
    s.stop()
    sm = v.summary()
    info = ffprobe(path)
    frames = ffprobe(path, ("-show_frames",))
    if not fc.check(info is not None and frames is not None, "ffprobe reads the file", v):
        return
    st = info["streams"]
    pk = [p for p in info["packets"] if p["stream_index"] == 0]
    fr = [f for f in frames["frames"] if f["stream_index"] == 0]
    pts = [int(p["pts"]) for p in pk]
    fc.check(len(st) == 1 and st[0]["codec_name"] == "mjpeg",
             f"one stream, mjpeg ({[x['codec_name'] for x in st]})", v)
    fc.check(len(pk) == sm["accepted"] == sm["recorded"] > 0,
             f"one packet per accepted frame ({len(pk)} packets, {sm['accepted']} accepted)", v)
    fc.check(all(b > a for a, b in zip(pts, pts[1:])), "timestamps strictly increase", v)
    fc.check(sum(int(p["size"]) for p in pk) == sm["bytes"],
             "the packets hold every byte received", v)
    dur = float(info["format"].get("duration", "0"))
    fc.check(2.0 < dur < 4.0, f"the trailer is written: duration {dur} s for 3 s", v)
    tags = {k.lower(): t for k, t in info["format"].get("tags", {}).items()}  # Matroska: COMMENT
    comment = tags.get("comment", "")
    fc.check(f"picture {W}x{H}" in comment, f"the file says the picture's size ({comment!r})", v)
    # ffmpeg decodes every packet into one picture of that JPEG's own size: none lost or merged.
    decoded = {}
    for f in fr:
        decoded[(f["width"], f["height"])] = decoded.get((f["width"], f["height"]), 0) + 1
    fc.check(len(fr) == len(pk) and decoded == mix(sm),
             f"ffmpeg decodes each frame at its own size ({len(fr)} pictures of {len(pk)} "
             f"packets; {decoded} vs the viewer's {mix(sm)})", v)
    files = extract(path, "rec-mkv")
    fc.check([os.path.getsize(f) for f in files] == [int(p["size"]) for p in pk],
             "the packets copy out whole", v)
    if files:
        w, h, _ = jpeg_info(open(files[0], "rb").read())
        fc.check((st[0]["width"], st[0]["height"]) == (w, h),
                 f"the stream's header gives the first frame's own size ({w}x{h}), as ffmpeg "
                 f"needs (docs/RECORDING.md)", v)
    seqs = [{"seq": str(x)} for x in
            stamps_of([(f, *jpeg_info(open(f, "rb").read())[:2]) for f in files])]
    stamped = [int(x["seq"]) for x in seqs if x["seq"] not in ("small", "None")]
    fc.check("None" not in [x["seq"] for x in seqs] and len(stamped) >= 0.9 * len(files)
             and all(b > a for a, b in zip(stamped, stamped[1:])),
             f"every frame decodes to a stamped picture, in order ({len(stamped)} of "
             f"{len(files)} read, the rest too small to read)", v)


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
        raise fc.Skip(f"cannot mount a tmpfs here ({why.strip()})")
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
    """a disk that stalls (a FIFO read only once the viewer has dropped frames): the viewer says
    recording fell behind"""
    path = os.path.join(fc.TMP, "slow.mkv")
    copy = os.path.join(fc.TMP, "slow-copy.mkv")
    os.mkfifo(path)
    # A reader must exist for the viewer's open to return; it reads nothing until told to.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    go = threading.Event()

    def drain():
        go.wait(60)
        os.set_blocking(fd, True)
        with open(copy, "wb") as out:
            while chunk := os.read(fd, 1 << 16):
                out.write(chunk)
        os.close(fd)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    # The disk stays stalled until the viewer's figures show frames not written: the queue (64
    # frames) and the pipe fill at whatever rate frames come. A fixed 3.3 s stall fell behind
    # only when more than about 100 frames came in that time; a loaded machine gave fewer, and
    # nothing was dropped. Bounded at 30 s (64 frames at 2 fps).
    s, v = stream("--record", path, name="slow")
    end = time.monotonic() + 30
    while time.monotonic() < end and v.p.poll() is None and \
            not any(l.get("record_dropped", 0) > 0 for l in v.stats()):
        time.sleep(0.1)
    go.set()
    time.sleep(1)  # the stream goes on while the disk catches up
    fc.check(v.stop(signal.SIGTERM) == 0, "viewer exits 0 on SIGTERM", v)
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


def test_segments_rotate():
    """--record DIR --segment 1 --keep 1500KB: one .mkv per second, the oldest removed while the
    segments total more (one from an earlier run first), never the one being written, nothing
    else in the directory touched, each removal said, every segment kept readable"""
    d = os.path.join(fc.TMP, "segs")
    os.makedirs(d)
    old = os.path.join(d, "20000101T000000Z.mkv")  # an earlier run's: the oldest of all
    with open(old, "wb") as f:
        f.write(b"x" * 10000)
    notes = os.path.join(d, "notes.txt")  # not a segment: never removed
    with open(notes, "w") as f:
        f.write("mine\n")
    s, v = stream("--record", d, "--segment", "1", "--keep", "1500KB", name="seg")
    time.sleep(6)
    fc.check(v.stop(signal.SIGTERM) == 0, "viewer exits 0 on SIGTERM", v)
    s.stop()
    kept = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*Z*.mkv")))
    said = re.findall(r"removed (\d+) old segments? over --keep \(([\d.]+) MB\), the last (\S+)",
                      v.output())
    removed = sum(int(n) for n, _, _ in said)
    fc.check(os.path.exists(notes) and not os.path.exists(old),
             "the earlier run's segment went, the other file stayed", v)
    fc.check(said and removed >= 3 and all(name < kept[0] for _, _, name in said)
             and not any(os.path.exists(os.path.join(d, name)) for _, _, name in said),
             f"said what it removed, older than every segment kept ({removed} removed, "
             f"kept {kept})", v)
    sizes = [os.path.getsize(os.path.join(d, k)) for k in kept]
    fc.check(2 <= len(kept) <= 4 and sum(sizes[:-1]) <= 1500000,
             f"the newest kept, within the limit but for the one last written ({sizes})", v)
    packets = 0
    for k in kept:
        info = ffprobe(os.path.join(d, k))
        pk = [p for p in info["packets"] if p["stream_index"] == 0] if info else []
        packets += len(pk)
        fc.check(pk and int(pk[0]["pts"]) == 0 and float(info["format"].get("duration", 0)) > 0,
                 f"{k}: readable, its times from its own start ({len(pk)} frames)", v)
    fc.check(0 < packets < v.summary()["recorded"],
             f"the kept segments hold the newest frames ({packets} of "
             f"{v.summary()['recorded']} recorded)", v)


if __name__ == "__main__":
    fc.main(test_directory, test_mkv_sigterm, test_mkv_sigkill, test_disk_full, test_slow_disk,
            test_segments_rotate)
