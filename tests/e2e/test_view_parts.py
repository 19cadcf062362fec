"""End to end: freshcam-view taking frames in parts (docs/PROTOCOL.md, section 14; issue 19,
the viewer's side) from freshcam-send, which sends each full picture while it encodes it.

Both run on this host, so each shown frame's stamp gives its true age exactly (--check-stamps),
and each recorded JPEG's stamp says which frame it is (test_record's checks). It proves: frames
in parts are decoded while they arrive and shown, each within the budget, carrying their stamps
in order, recorded whole; --parts off takes whole FRAMEs as before; and a sender killed inside a
frame in parts leaves the viewer with that frame dropped with its partial decode, nothing of it
shown or recorded. That sender is one played here (tests/e2e/wire.py), killed where it stopped
halfway through a frame, so the cut is certain: freshcam-send starts a frame in parts only when
a picture is being encoded as it may send, which a kill at a random moment rarely catches.""" 
import os
import signal
import socket
import struct
import time

import fc
import test_record
import wire

# test_record's checks of a recording, for this test's picture size.
test_record.W, test_record.H = 1280, 720


def run(parts, name, seconds=3):
    """1280x720 at 30 fps, the full picture always, to a viewer with --parts parts that checks
    stamps and records into a directory. Returns (viewer, its summary, the recording)."""
    port = fc.free_port()
    d = os.path.join(fc.TMP, f"{name}-rec")
    s = fc.sender("--size", "1280x720", "--fps", "30", "--quiet", port=port, name=f"{name}-send")
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", str(seconds), "--check-stamps", "--adapt", "off",
                  "--parts", parts, "--record", d, "--quiet", name=name)
    fc.check(v.wait(seconds + 20) == 0, f"{name}: the viewer exits 0 after --seconds", v, s)
    s.stop()
    return v, v.summary(), d


def check_shown(v, sm, d, name):
    fc.check(sm["shown"] > 0 and sm["stamped"] == sm["shown"] and sm["unstamped"] == 0,
             f"{name}: every shown frame carries its stamp ({sm['stamped']}/{sm['shown']})", v)
    fc.check(sm["stamp_over_budget"] == 0 and sm["corrupt"] == 0,
             f"{name}: no shown frame over the budget, none corrupt", v)
    rows, _ = test_record.check_directory(d, sm, v)
    files = [(os.path.join(d, r["file"]), int(r["width"]), int(r["height"])) for r in rows]
    test_record.check_frames([f[0] for f in files], rows, v, name)


def test_parts_shown_in_order():
    """frames in parts: decoded as they arrive, shown fresh with their stamps in order"""
    v, sm, d = run("on", "parts")
    check_shown(v, sm, d, "parts")
    fc.check(sm["parts_decoded"] > 0, f"frames decoded while they arrived "
             f"({sm['parts_decoded']} of {sm['shown']}; {sm['parts_followed']} followed)", v)
    # A share, and a speed: a frame goes whole, or is decoded whole, when the sender's session
    # or the display thread gets no CPU while the frame is encoded. On 2 cores shared with other
    # work at nice 10 the share was 72 to 93% with no contention /proc counts as such, and 59 of
    # 92 once with it: "most" is more than half, not the 80% of a quiet machine.
    fc.check_speed(sm["parts_decoded"] > sm["shown"] * 0.5,
                   f"most shown frames were decoded while they arrived ({sm['parts_decoded']} "
                   f"of {sm['shown']})", v)
    fc.check(sm["parts_decoded"] + sm["parts_discarded"] <= sm["parts_followed"],
             "no frame decoded or dropped that was not followed", v)


def test_parts_off():
    """--parts off: whole FRAMEs as before, nothing followed"""
    v, sm, d = run("off", "whole")
    check_shown(v, sm, d, "whole")
    fc.check(sm["parts_followed"] == 0 and sm["parts_decoded"] == 0,
             f"no frame came in parts ({sm['parts_followed']} followed)", v)


def latest(v, key):
    lines = v.stats()
    return lines[-1].get(key, 0) if lines else 0


FRAME_START, FRAME_PART, FRAME_END = 15, 16, 17


def fake_sender(lsock, jpegs):
    """A sender killed inside a frame, made certain: answers the viewer's requests with jpegs,
    each in parts (START, PART, a pause, END), then starts one more and stops two thirds of
    the way, to be killed there. Runs in a child process; never returns."""
    conn, _ = lsock.accept()
    peer = wire.Peer(conn)
    peer.recv_until(wire.HELLO, 5)
    peer.send(wire.hello(wire.ROLE_SENDER, width=1280, height=720, fps_milli=30000))
    for seq, jpeg in enumerate(jpegs + [jpegs[0]], 1):
        rid, t0 = struct.unpack(">IQ", peer.recv_until(wire.REQUEST, 10)[1])
        s1 = time.monotonic_ns()
        cut = len(jpeg) // 3
        start = wire.frame(rid, t0, time.monotonic_ns() - s1, 1_000_000, seq, 1280, 720,
                           jpeg[:cut])
        peer.send(wire.message(FRAME_START, start[8:]))
        peer.send(wire.message(FRAME_PART, struct.pack(">I", rid) + jpeg[cut:2 * cut]))
        if seq > len(jpegs):
            break
        # As a slow link would: the viewer's display follows each frame before its END.
        time.sleep(0.2)
        peer.send(wire.message(FRAME_END, struct.pack(">IIB", rid, len(jpeg), 0)
                               + jpeg[2 * cut:]))
    time.sleep(60)
    os._exit(0)


def test_killed_mid_frame():
    """a sender killed inside a frame in parts: the frame dropped, nothing of it shown"""
    v, sm, d = run("on", "source", seconds=1)  # pictures of freshcam-send's own
    jpegs = []
    for name in sorted(os.listdir(d))[:3]:
        if name.endswith(".jpg"):
            with open(os.path.join(d, name), "rb") as f:
                jpegs.append(f.read())
    fc.check(len(jpegs) == 3, f"three pictures to send ({len(jpegs)})", v)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    child = os.fork()
    if child == 0:
        try:
            fake_sender(lsock, jpegs)
        finally:
            os._exit(1)
    lsock.close()
    rec = os.path.join(fc.TMP, "killed-rec")
    v = fc.viewer(port, "--seconds", "30", "--max-age", "1000", "--record", rec, "--parts",
                  "on", name="killed-view")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and latest(v, "parts_followed") < 4:
        time.sleep(0.05)
    fc.check(latest(v, "parts_followed") == 4, "the viewer follows the fourth frame, cut two thirds of the way",
             v)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "connection to the sender lost" not in v.output():
        time.sleep(0.05)
    v.stop()
    sm = v.summary()
    fc.check(sm["parts_discarded"] == 1 and sm["parts_decoded"] == 3,
             f"the frame cut off was dropped with its partial decode, the three whole ones "
             f"decoded in parts ({sm['parts_discarded']} dropped, {sm['parts_decoded']} decoded)",
             v)
    fc.check(sm["received"] == sm["accepted"] == sm["shown"] == 3 and sm["corrupt"] == 0,
             f"the three whole frames shown, nothing of the fourth ({sm['received']} received, "
             f"{sm['shown']} shown)", v)
    files = sorted(n for n in os.listdir(rec) if n.endswith(".jpg"))
    got = []
    for n in files:
        with open(os.path.join(rec, n), "rb") as f:
            got.append(f.read())
    fc.check(got == jpegs, f"the recording holds the three whole frames byte for byte, nothing "
             f"of the fourth ({len(got)} files)", v)


if __name__ == "__main__":
    fc.main(test_parts_shown_in_order, test_parts_off, test_killed_mid_frame)
