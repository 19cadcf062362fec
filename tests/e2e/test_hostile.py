"""End to end against a peer that breaks the protocol on purpose (tests/e2e/wire.py plays it).

Against freshcam-send, a fake viewer sends what a viewer may not: a FRAME, a STATUS, a second
HELLO, more REQUESTs than its window, VERDICTs for frames never sent, half a header and then
nothing. Each gets a BYE 3 naming the broken rule and a logged reason, and only that connection
ends: a real viewer streaming from the same sender all along keeps its rate.

Against freshcam-view, a fake sender sends a REQUEST, FRAMEs answering the wrong request or
repeating a frame, impossible timings and a stale notice that claims a young frame. The rule
breakers end the connection (BYE 3, then the viewer dials again); the bad timings only get those
frames rejected, and the connection stays."""
import os
import socket
import struct
import time

import fc
import wire

VIEW = os.path.join(fc.BIN, "freshcam-view")
BUDGET_US = 80000


# ---- against the sender ------------------------------------------------------------------------

def fake_viewer(port, window=2):
    """A connection to the sender after a correct HELLO exchange."""
    p = wire.Peer.dial(port)
    p.send(wire.hello(wire.ROLE_VIEWER, window=window, budget_us=BUDGET_US))
    m = p.recv_until(wire.HELLO)
    assert m is not None, "the sender did not answer the HELLO"
    return p


def expect_bye(p, s, what, text):
    got = p.bye_text()
    ok = got is not None and got[0] == 3 and text in got[1] and p.wait_closed()
    fc.check(ok, f"{what}: BYE 3 with '{text}', then closed (got {got})", s)


def test_sender_against_rule_breakers():
    """each broken rule ends only the breaker's connection, with a BYE and a log line that name
    the rule; a real viewer streams at full rate throughout"""
    port = fc.free_port()
    s = fc.sender("--size", "320x240", port=port)
    fc.wait_listening(port)
    good = fc.viewer(port, "--seconds", "14", name="view-good")
    time.sleep(1.0)

    for what, msg, text in (
            ("FRAME", wire.frame(1, 2, 3, 4, 5), "a viewer may not send FRAME"),
            ("STATUS", wire.status(1), "a viewer may not send STATUS"),
            ("second HELLO", wire.hello(wire.ROLE_VIEWER, window=2, budget_us=BUDGET_US),
             "a viewer may not send HELLO")):
        p = fake_viewer(port)
        p.send(msg)
        expect_bye(p, s, what, text)
        p.close()

    # Three REQUESTs at once on a window of 2: the third is one too many.
    p = fake_viewer(port, window=2)
    p.send(wire.request(1, 100) + wire.request(2, 200) + wire.request(3, 300))
    expect_bye(p, s, "over the window", "more than the 2 requests in flight it announced")
    p.close()

    # A VERDICT before any FRAME was sent.
    p = fake_viewer(port)
    p.send(wire.verdict(7, 12345))
    expect_bye(p, s, "verdict on nothing", "a VERDICT on frame 12345 (request 7), which was not sent")
    p.close()

    # A VERDICT naming another frame than the one sent.
    p = fake_viewer(port, window=1)
    p.send(wire.request(1, 100))
    m = p.recv_until(wire.FRAME)
    fc.check(m is not None, "the fake viewer gets a frame for its request", s)
    if m:
        f = wire.parse_frame(m[1])
        p.send(wire.verdict(f["id"], f["seq"] + 1))
        expect_bye(p, s, "verdict on the wrong frame", f"expected frame {f['seq']} (request 1)")
    p.close()

    # Half a header, then silence: cut off after 5 s, by the stall deadline or the idle one
    # (both are 5 s; whichever the session checks first), and told why.
    p = fake_viewer(port)
    p.send(b"FC" + bytes([wire.VERSION]))
    t = time.monotonic()
    got = p.bye_text(timeout=9)
    took = time.monotonic() - t
    fc.check(got is not None and got[0] in (3, 5) and 4 <= took <= 8,
             f"half a header: cut off after {took:.1f} s with {got}", s)
    p.close()

    fc.check(good.wait(30) == 0, "the real viewer runs to its end", good, s)
    rates = [l["shown_fps"] for l in good.stats() if not l["summary"]][1:]
    fc.check(rates and min(rates) > 0, f"the real viewer got frames every second ({rates})", good)
    fc.check_speed(rates and min(rates) >= 25,
                   f"the real viewer kept its rate while the others broke rules ({rates})", good, s)
    s.stop()
    out = s.output()
    for text in ("protocol error: a viewer may not send FRAME",
                 "protocol error: more than the 2 requests",
                 "protocol error: a VERDICT on frame 12345"):
        fc.check(text in out, f"the sender logs '{text}'", s)
    fc.check("peer stalled for 5000 ms" in out or "silent for 5000 ms" in out,
             "the sender logs why it cut off the half header", s)


# ---- against the viewer ------------------------------------------------------------------------

class FakeSender:
    """Listens; a freshcam-view dials it. Each connection is greeted with a correct HELLO."""

    def __init__(self, name, seconds):
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(4)
        self.ls.settimeout(6)
        port = self.ls.getsockname()[1]
        path = os.path.join(fc.TMP, f"{name}.jsonl")
        self.view = fc.Proc(name, [VIEW, "--headless", f"127.0.0.1:{port}", "--seconds",
                                   str(seconds), "--stats-json", path], path)

    def accept(self):
        try:
            sock, _ = self.ls.accept()
        except socket.timeout:
            return None
        p = wire.Peer(sock)
        p.send(wire.hello(wire.ROLE_SENDER, width=16, height=16, fps_milli=30000))
        if p.recv_until(wire.HELLO) is None:
            return None
        return p

    def close(self):
        self.ls.close()


def next_request(p):
    m = p.recv_until(wire.REQUEST)
    assert m is not None, "the viewer sent no REQUEST"
    return struct.unpack(">IQ", m[1])


def rule_breaker(name, misdeed, text):
    """A fake sender commits misdeed(peer) on its first connection; the viewer must answer with
    BYE 3 carrying text, say so, and dial again."""
    fs = FakeSender(f"view-{name}", 6)
    p = fs.accept()
    fc.check(p is not None, f"{name}: the viewer dials and greets", fs.view)
    if p:
        misdeed(p)
        got = p.bye_text()
        fc.check(got is not None and got[0] == 3 and text in got[1],
                 f"{name}: the viewer says BYE 3 with '{text}' (got {got})", fs.view)
        p.close()
    again = fs.accept()
    fc.check(again is not None, f"{name}: the viewer dials again", fs.view)
    if again:
        again.close()
    fs.view.stop()
    fs.close()
    out = fs.view.output()
    fc.check("sender broke the protocol" in out and text in out and "reconnecting" in out,
             f"{name}: the viewer logs the broken rule and reconnects", fs.view)


def test_viewer_against_rule_breakers():
    """a REQUEST from the sender, a FRAME for the wrong request, a repeated frame, a sender clock
    that runs backwards: each ends the connection with a BYE naming it, and the viewer dials
    again"""
    rule_breaker("request", lambda p: p.send(wire.request(1, 1)),
                 "a sender may not send REQUEST now")

    def wrong_id(p):
        rid, t0 = next_request(p)
        p.send(wire.frame(rid + 100, t0, 0, 0, 1))
    rule_breaker("wrong-id", wrong_id, "FRAME answers request")

    def wrong_t0(p):
        rid, t0 = next_request(p)
        p.send(wire.frame(rid, t0 + 1, 0, 0, 1))
    rule_breaker("wrong-t0", wrong_t0, "FRAME answers request")

    def repeated(p):
        rid, t0 = next_request(p)
        p.send(wire.frame(rid, t0, 0, 10**9, 5))  # a stale notice: nothing to decode
        rid, t0 = next_request(p)
        p.send(wire.frame(rid, t0, 0, 10**9, 5))
    rule_breaker("repeated-seq", repeated, "FRAME answers request")

    def clock_backwards(p):
        # Two stale notices (nothing to decode) whose sender clock runs backwards: every bound
        # the offset interval built on the first would be void.
        rid, t0 = next_request(p)
        p.send(wire.frame(rid, t0, 0, 10**9, 1, send_ns=5 * 10**9))
        rid, t0 = next_request(p)
        p.send(wire.frame(rid, t0, 0, 10**9, 2, send_ns=4 * 10**9))
    rule_breaker("clock-backwards", clock_backwards, "its clock went backwards")


def test_viewer_against_bad_timings():
    """two FRAMEs whose hold is longer than the round trip, and a stale notice claiming a young
    frame: all rejected (VERDICT late), the impossible hold said once; the connection stays"""
    fs = FakeSender("view-timings", 3)
    p = fs.accept()
    fc.check(p is not None, "timings: the viewer dials and greets", fs.view)
    verdicts = []
    if p:
        for seq in (1, 2):
            rid, t0 = next_request(p)
            # Held 10 s, within a round trip of milliseconds: impossible.
            p.send(wire.frame(rid, t0, 10 * 10**9, 0, seq, jpeg=b"\xff\xd8\xff\xd9"))
            m = p.recv_until(wire.VERDICT)
            verdicts.append(m and wire.parse_verdict(m[1]))
        rid, t0 = next_request(p)
        # A stale notice (no bytes) whose timings say it is young.
        p.send(wire.frame(rid, t0, 0, 0, 3))
        m = p.recv_until(wire.VERDICT)
        verdicts.append(m and wire.parse_verdict(m[1]))
    fc.check(len(verdicts) == 3 and all(v and not v["accepted"] for v in verdicts),
             f"timings: every frame rejected ({verdicts})", fs.view)
    fc.check(len(verdicts) == 3 and all(v and v["bound_us"] == 0xFFFFFFFF for v in verdicts[:2]),
             "timings: no bound claimed for the impossible ones", fs.view)
    fc.check(fs.view.wait(15) == 0, "timings: the viewer runs to its end", fs.view)
    if p:
        p.close()
    fs.close()
    sm = fs.view.summary()
    out = fs.view.output()
    fc.check(sm["shown"] == 0 and sm["rejected"] == 3 and sm["stale_at_sender"] == 1,
             f"timings: counted as rejected, one stale (rejected {sm['rejected']}, stale "
             f"{sm['stale_at_sender']}, shown {sm['shown']})", fs.view)
    fc.check(out.count("longer than the") == 1 and "reconnecting" not in out,
             "timings: the impossible hold is said once, and the connection stayed", fs.view)


if __name__ == "__main__":
    fc.main(test_sender_against_rule_breakers, test_viewer_against_rule_breakers,
            test_viewer_against_bad_timings)
