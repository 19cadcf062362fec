"""End to end: a viewer whose frames come over UDP refuses frames in parts on its TCP connection.
Over UDP each frame comes whole as datagrams (docs/PROTOCOL.md, section 14: a UDP viewer gets no
parts); a sender that sends a FRAME_START there anyway would have two frames answering requests
at once, and before this rule the viewer showed the part's bytes in place of the frame that came
whole over UDP (a wrong picture). A fake sender (tests/e2e/wire.py) offers UDP and sends a
FRAME_START: the viewer must answer BYE 3 naming the rule, say so, and dial again."""
import os
import socket
import struct

import fc
import wire

VIEW = os.path.join(fc.BIN, "freshcam-view")
FRAME_START = 15  # version 6 (common/proto.h)
CONN = 0x5EED0017


def greet(ls, udp_port):
    """Accepts the viewer, greets it as a sender offering UDP; (peer, the viewer's REQUEST)."""
    try:
        sock, _ = ls.accept()
    except socket.timeout:
        return None, None
    p = wire.Peer(sock)
    p.send(wire.hello(wire.ROLE_SENDER, width=320, height=240, fps_milli=30000, flags=0x04,
                      udp_port=udp_port, conn=CONN))
    hello = p.recv_until(wire.HELLO)
    req = p.recv_until(wire.REQUEST) if hello else None
    if req is None:
        p.close()
        return None, None
    return p, struct.unpack(">IQ", req[1])


def test_parts_refused_over_udp():
    """a FRAME_START on the TCP connection of a UDP viewer: BYE 3 naming the rule, and a new dial"""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(2)
    ls.settimeout(10)
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("127.0.0.1", 0))
    port, uport = ls.getsockname()[1], us.getsockname()[1]
    path = os.path.join(fc.TMP, "view.jsonl")
    v = fc.Proc("view", [VIEW, "--headless", f"127.0.0.1:{port}", "--transport", "udp",
                         "--seconds", "6", "--stats-json", path], path)
    p, (rid, t0) = greet(ls, uport)
    fc.check(p is not None, "the viewer dials over TCP, asks for UDP and sends a REQUEST", v)
    if p:
        # A START with the first bytes of a JPEG, as a sender in parts would send them.
        start = wire.frame(rid, t0, 1000, 1_000_000, 1, 320, 240, b"\xff\xd8\xff\xe0" + bytes(60))
        p.send(wire.message(FRAME_START, start[8:]))
        got = p.bye_text()
        fc.check(got is not None and got[0] == 3 and "while frames come over UDP" in got[1],
                 f"the viewer says BYE 3 naming the rule (got {got})", v)
        p.close()
    again, _ = greet(ls, uport)
    fc.check(again is not None, "the viewer dials again", v)
    if again:
        again.close()
    v.wait(20)
    fc.check("a FRAME_START while frames come over UDP" in v.output(),
             "the viewer says why it ended the connection", v)
    fc.check(v.summary().get("shown", 0) == 0, "nothing shown", v)
    ls.close()
    us.close()


if __name__ == "__main__":
    fc.main(test_parts_refused_over_udp)
