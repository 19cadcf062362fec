"""End to end on loopback: the UDP transport (docs/PROTOCOL.md, section 13). --transport udp on
both sides streams frames as datagrams, with the same promise (no shown frame over the budget,
by the stamps: both processes share a clock here); a sender that dials a --listen viewer does too;
junk datagrams sent to the viewer's --udp-port (random bytes, empty datagrams, a valid datagram
with a wrong conn) are refused and counted while the stream goes on; a viewer that asks a TCP-only
sender gets frames over TCP and says so. A private stream over UDP (sealed datagrams) is
test_udp_secure.py's."""
import os
import random
import socket
import struct
import time

import fc

SOURCE_FPS = 30
SEND = os.path.join(fc.BIN, "freshcam-send")
VIEW = os.path.join(fc.BIN, "freshcam-view")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_stream(v, s, what):
    """The viewer's summary: frames shown, none truly over budget, and they came as datagrams."""
    sm = v.summary()
    udp = sm.get("udp")
    fc.check(sm["shown"] > 0, f"{what}: frames shown ({sm['shown']})", v, s)
    fc.check(sm["stamp_over_budget"] == 0 and sm["stamped"] == sm["shown"],
             f"{what}: no shown frame older than the budget (true age max "
             f"{sm['true_age_ms_max']} ms, {sm['stamped']}/{sm['shown']} stamped)", v)
    fc.check(udp is not None and udp["datagrams"] > 0 and udp["frames_whole"] >= sm["accepted"],
             f"{what}: the frames came as datagrams ({udp})", v)
    fc.check_speed(sm["shown_fps"] >= 0.8 * SOURCE_FPS,
                   f"{what}: shown at about the source rate ({sm['shown_fps']} fps)", v, s)
    return sm


def test_udp_loopback():
    """--transport udp on both sides: frames as datagrams, at the source rate, none over budget"""
    port = fc.free_port()
    s = fc.sender("--size", "640x480", "--fps", str(SOURCE_FPS), "--transport", "udp", port=port)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "4", "--check-stamps", "--transport", "udp", name="udpview")
    fc.check(v.wait(20) == 0, "viewer exits 0 after --seconds", v)
    s.stop()
    check_stream(v, s, "udp")
    fc.check("frames over UDP" in s.output(), "the sender says the viewer's frames go over UDP", s)
    fc.check(" | udp " in v.output(), "the viewer's console line has the udp figures", v)


def test_udp_sender_dials():
    """the sender dials a --listen viewer (--connect), both with --transport udp: frames flow"""
    port = fc.free_port()
    path = os.path.join(fc.TMP, "listen.jsonl")
    v = fc.Proc("listen", [VIEW, "--headless", "--listen", f"127.0.0.1:{port}", "--transport",
                           "udp", "--seconds", "5", "--check-stamps", "--stats-json", path], path)
    fc.wait_listening(port)
    s = fc.Proc("dialler", [SEND, "--connect", f"127.0.0.1:{port}", "--transport", "udp",
                            "--size", "640x480", "--fps", str(SOURCE_FPS)])
    fc.check(v.wait(25) == 0, "viewer exits 0 after --seconds", v)
    s.stop()
    check_stream(v, s, "--connect")


def junk(port, conn_guess):
    """Datagrams no viewer may take: random bytes of every size, empty ones (0 bytes: no quiet
    socket, a datagram), and valid datagrams of a connection that is not its own (a KEEPALIVE
    and a chunk of a well-formed frame)."""
    rnd = random.Random(17)
    out = [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 1400))) for _ in range(50)]
    out += [b""] * 10
    keepalive = b"FD" + bytes([1, 5]) + struct.pack(">IQ", conn_guess, 0)
    chunk = (b"FD" + bytes([1, 1]) + struct.pack(">IQ", conn_guess, 7)
             + struct.pack(">HHIIH", 1, 2, 2000, 1200, 1200) + bytes(800))
    out += [keepalive] * 10 + [chunk] * 10
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in out:
            s.sendto(d, ("127.0.0.1", port))
            time.sleep(0.002)
    return 60, 20


def test_junk_datagrams_refused():
    """random bytes and another connection's datagrams at the viewer's --udp-port: refused,
    counted by reason, and the stream goes on"""
    port = fc.free_port()
    uport = free_udp_port()
    s = fc.sender("--size", "640x480", "--fps", str(SOURCE_FPS), "--transport", "udp", port=port,
                  name="junksend")
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "5", "--check-stamps", "--transport", "udp", "--udp-port",
                  str(uport), name="junked")
    end = time.monotonic() + 10
    while time.monotonic() < end and not any(l.get("shown", 0) > 0 for l in v.stats()):
        time.sleep(0.1)
    fc.check(any(l.get("shown", 0) > 0 for l in v.stats()), "frames shown before the junk", v)
    # The test cannot know the conn; a guess that happens to be right is 1 in 2^32.
    bad, wrong = junk(uport, 0x5eed5eed)
    shown_after_junk = max((l["shown"] for l in v.stats()), default=0)
    fc.check(v.wait(20) == 0, "viewer exits 0 after --seconds", v)
    s.stop()
    sm = check_stream(v, s, "junk")
    udp = sm.get("udp") or {"refused": {}}
    ref = udp["refused"]
    fc.check(ref.get("invalid", 0) >= bad and ref.get("wrong_conn", 0) >= wrong,
             f"junk refused and counted: {bad} random or empty, {wrong} of another conn: {ref}",
             v)
    fc.check(sm["shown"] > shown_after_junk,
             f"the stream went on after the junk ({shown_after_junk} shown then, {sm['shown']} "
             f"at the end)", v)


def test_tcp_only_sender():
    """a viewer asking for UDP of a sender without it streams over TCP, and says so"""
    port = fc.free_port()
    s = fc.sender("--size", "320x240", port=port)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "2", "--transport", "udp", name="tcponly")
    fc.check(v.wait(20) == 0, "viewer exits 0", v)
    s.stop()
    sm = v.summary()
    fc.check(sm["shown"] > 0 and "udp" not in sm, f"frames over TCP ({sm['shown']} shown)", v)
    fc.check("does not offer UDP" in v.output() and "frames over TCP" in v.output(),
             "the viewer says the sender does not offer UDP", v)
    fc.check("asked for UDP" in s.output(), "the sender says the viewer asked for UDP", s)


if __name__ == "__main__":
    fc.main(test_udp_loopback, test_udp_sender_dials, test_junk_datagrams_refused,
            test_tcp_only_sender)
