"""End to end: frames in parts (docs/PROTOCOL.md, section 14), freshcam-send against a small
viewer written here that sets HELLO flag bit 3 and reads FRAME_START, FRAME_PART and FRAME_END
off the socket, checking the order rules as fc_parts_rx_take does (common/proto_parts.c).

It proves the sender's side: a frame leaves while it is encoded (a START before the JPEG is
whole, PARTs as it grows, an END whose total is every byte), the JPEGs put together from the
parts are whole pictures carrying the test pattern's stamps in order (decoded by djpeg, read by
test_fakecam.read_stamp), --parts off sends FRAMEs only, and a sender killed mid-frame leaves
the frame open on the wire, without an END, so a viewer has nothing whole to show of it. The
viewer's own handling of parts (decoding while they arrive, discarding an open frame) is
freshcam-view's, tested with it (issue 19, viewer side)."""
import os
import signal
import struct
import subprocess
import time

import fc
import wire
from test_fakecam import read_stamp

FRAME_START, FRAME_PART, FRAME_END = 15, 16, 17
HELLO_PARTS = 0x08
HELLO_FULL_ONLY = 0x02  # the full picture always: the one that leaves in parts
COMPLETE = 0


class PartsViewer:
    """A viewer that takes frames in parts: keeps `window` requests in flight, judges every
    frame accepted, and collects what came. Any breach of the order rules fails the test."""

    def __init__(self, port, window=2, budget_us=1_000_000, flags=HELLO_PARTS | HELLO_FULL_ONLY):
        self.peer = wire.Peer.dial(port)
        self.peer.send(wire.hello(wire.ROLE_VIEWER, window=window, budget_us=budget_us,
                                  flags=flags))
        hello = self.peer.recv_until(wire.HELLO, 5)
        if hello is None:
            raise AssertionError("no HELLO from the sender")
        self.next_id = 1
        self.pending = []
        for _ in range(window):
            self.request()
        self.frames = []   # whole frames: dicts of parse_frame's, with "parts" (messages)
        self.given_up = []
        self.open = None   # the frame in parts open now
        self.messages = {FRAME_START: 0, FRAME_PART: 0, FRAME_END: 0, wire.FRAME: 0}
        self.errors = []   # breaches of the rules, checked once at the end (fc.check each)

    def rule(self, ok, what):
        if not ok:
            self.errors.append(what)

    def request(self):
        self.pending.append(self.next_id)
        self.peer.send(wire.request(self.next_id, time.monotonic_ns()))
        self.next_id += 1

    def answered(self, f):
        """A START or FRAME uses up the oldest request; the next goes at once."""
        self.rule(self.pending and f["id"] == self.pending[0],
                 f"frame {f['seq']} answers request {self.pending[:1]}, not {f['id']}")
        self.pending.pop(0)
        self.request()

    def judged(self, f, accepted=True):
        self.peer.send(wire.verdict(f["id"], f["seq"], accepted=accepted))

    def take(self, m):
        """One message from the sender, by the order rules. False once the stream ended."""
        mtype, payload = m
        if mtype in self.messages:
            self.messages[mtype] += 1
        if self.open is not None and mtype not in (FRAME_PART, FRAME_END, wire.PING,
                                                   wire.PONG, wire.BYE):
            self.rule(False, f"a message of type {mtype} inside frame {self.open['id']}")
            return False
        if mtype == wire.FRAME:
            f = wire.parse_frame(payload)
            f["parts"] = 1
            self.answered(f)
            self.frames.append(f)
            self.judged(f)
        elif mtype == FRAME_START:
            f = wire.parse_frame(payload)
            f["parts"] = 1
            f["in_parts"] = True
            self.answered(f)
            self.open = f
        elif mtype == FRAME_PART:
            rid = struct.unpack(">I", payload[:4])[0]
            if self.open is None or rid != self.open["id"]:
                self.rule(False, f"a PART of frame {rid} with {self.open and self.open['id']} "
                          "open")
                return False
            self.rule(len(payload) > 4, "a PART carries bytes")
            self.open["jpeg"] += payload[4:]
            self.open["parts"] += 1
        elif mtype == FRAME_END:
            self.end(payload)
        elif mtype == wire.BYE:
            return False
        return True

    def end(self, payload):
        rid, total, status = struct.unpack(">IIB", payload[:9])
        f = self.open
        if f is None or rid != f["id"]:
            self.rule(False, f"an END of frame {rid}, not the open one")
            return
        f["jpeg"] += payload[9:]
        f["parts"] += 1
        self.rule(total == len(f["jpeg"]),
                 f"frame {f['seq']}: END says {total} bytes, {len(f['jpeg'])} came")
        self.open = None
        if status == COMPLETE:
            self.frames.append(f)
            self.judged(f)
        else:
            self.given_up.append((f, status))
            self.judged(f, accepted=False)

    def run(self, frames, timeout):
        """Reads until `frames` whole frames came, the stream ended, or timeout seconds."""
        end = time.monotonic() + timeout
        while len(self.frames) < frames and time.monotonic() < end:
            m = self.peer.recv(max(0.0, end - time.monotonic()))
            if m is None or not self.take(m):
                break

    def close(self):
        self.peer.send(wire.bye(0, b"done"))
        self.peer.close()


def luma_of(jpeg):
    """(width, height, luma bytes) of a JPEG decoded by djpeg, or None when it does not decode."""
    p = subprocess.run(["djpeg", "-grayscale", "-pnm"], input=jpeg, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    if p.returncode != 0 or p.stderr or not p.stdout.startswith(b"P5"):
        return None
    head = p.stdout.split(maxsplit=4)  # P5, width, height, maxval, pixels
    return int(head[1]), int(head[2]), head[4]


def stamps_of(frames, most=20):
    """The stamps' sequence numbers of up to `most` of the frames (spread over them); a frame
    that does not decode whole, or has no stamp, fails the test."""
    step = max(1, len(frames) // most)
    seqs, bad = [], []
    for f in frames[::step]:
        pic = luma_of(f["jpeg"])
        stamp = pic and pic[:2] == (f["width"], f["height"]) and read_stamp(pic[2], pic[0],
                                                                             pic[1])
        if not stamp or stamp[0] != f["seq"] & 0xFFFFFFFF:
            bad.append(f"frame {f['seq']} ({len(f['jpeg'])} bytes in {f['parts']} messages): "
                       f"{'no picture of its size' if not pic else stamp}")
        seqs.append(stamp and stamp[0])
    fc.check(seqs and not bad, f"{len(seqs)} frames decode whole at their size and carry their "
             f"stamps ({bad[:3]})")
    return seqs


def need_djpeg():
    if subprocess.run(["sh", "-c", "command -v djpeg"], stdout=subprocess.DEVNULL).returncode:
        raise fc.Skip("djpeg is not installed (libjpeg-turbo-progs)")


def test_frames_in_parts():
    """A 1280x720 stream to a viewer that takes parts: most frames leave in parts, begun before
    the JPEG is whole; each put together is a whole picture with its stamp, in order."""
    need_djpeg()
    port = fc.free_port()
    s = fc.sender("--size", "1280x720", "--fps", "30", "--encoders", "1", port=port)
    fc.wait_listening(port)
    v = PartsViewer(port)
    v.run(60, 20)
    v.close()
    s.stop()
    fc.check(not v.errors, f"the order rules held ({v.errors[:3]})", s)
    in_parts = [f for f in v.frames if f.get("in_parts")]
    started = v.messages[FRAME_START]
    fc.check(len(v.frames) >= 60, f"60 frames came ({len(v.frames)})", s)
    fc.check(started >= len(v.frames) // 2,
             f"most frames left in parts: {started} STARTs for {len(v.frames)} frames, "
             f"{v.messages[wire.FRAME]} FRAMEs", s)
    fc.check(v.messages[FRAME_PART] >= 1,
             f"bytes followed a START as they were encoded ({v.messages[FRAME_PART]} PARTs)", s)
    seqs = [f["seq"] for f in v.frames]
    fc.check(seqs == sorted(set(seqs)), "frames in increasing seq, none twice", s)
    stamps = stamps_of(in_parts)
    fc.check(stamps and stamps == sorted(set(stamps)),
             f"the stamps read back in order ({stamps[:5]}...)", s)


def test_parts_off():
    """--parts off: the same viewer gets FRAMEs only, whole, with their stamps."""
    need_djpeg()
    port = fc.free_port()
    s = fc.sender("--size", "640x480", "--parts", "off", port=port)
    fc.wait_listening(port)
    v = PartsViewer(port)
    v.run(20, 20)
    v.close()
    s.stop()
    fc.check(not v.errors, f"the order rules held ({v.errors[:3]})", s)
    fc.check(len(v.frames) >= 20, f"20 frames came ({len(v.frames)})", s)
    fc.check(v.messages[FRAME_START] == 0 and v.messages[FRAME_PART] == 0,
             f"no frame in parts ({v.messages})", s)
    stamps_of(v.frames, 5)


def test_killed_mid_frame():
    """A sender killed while a frame is open (START sent, its END not: made certain by
    stopping it first and reading what was on its way) leaves the frame open when the
    connection ends: nothing whole of it to show."""
    port = fc.free_port()
    # A slow encode (1920x1080 at quality 100 on one thread) leaves time to stop it mid-frame.
    s = fc.sender("--size", "1920x1080", "--quality", "100", "--encoders", "1", port=port)
    fc.wait_listening(port)
    v = PartsViewer(port)
    caught = None
    end = time.monotonic() + 20
    while caught is None and time.monotonic() < end:
        m = v.peer.recv(max(0.0, end - time.monotonic()))
        if m is None or not v.take(m):
            break
        if m[0] != FRAME_START:
            continue
        os.kill(s.p.pid, signal.SIGSTOP)
        # What was already on its way is read; if the frame ended in it, try the next one.
        while v.open is not None:
            m = v.peer.recv(0.3)
            if m is None or not v.take(m):
                break
        if v.open is not None:
            caught = v.open
        else:
            os.kill(s.p.pid, signal.SIGCONT)
    fc.check(caught is not None, "a frame was caught open, its END not sent", s)
    if caught is None:
        return
    s.p.kill()
    s.p.wait()
    whole = len(v.frames)
    end = time.monotonic() + 5
    while not v.peer.closed and time.monotonic() < end:
        m = v.peer.recv(max(0.0, end - time.monotonic()))
        if m is not None:
            v.take(m)
    fc.check(v.peer.closed, "the connection ended with the sender")
    fc.check(not v.errors, f"the order rules held ({v.errors[:3]})", s)
    fc.check(v.open is caught and len(v.frames) == whole,
             f"frame {caught['seq']} stayed open ({len(caught['jpeg'])} bytes of it), "
             "nothing whole came of it")


if __name__ == "__main__":
    fc.main(test_frames_in_parts, test_parts_off, test_killed_mid_frame)
