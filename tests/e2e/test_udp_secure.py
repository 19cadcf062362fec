"""End to end: a private stream over UDP (--transport udp, the same passphrase on both sides).
Frames are shown, and every datagram on the wire, both ways, is sealed (the type's high bit set)
and holds no JPEG's start. A stranger's datagrams aimed at the viewer, with the stream's own header
and connection id but other bytes (and one unsealed keep-alive), are refused and counted
(udp.refused.not_opened), copies of a genuine datagram are refused as replays
(udp.refused.replayed), neither moves the viewer's idea of where the sender is, and the stream goes
on. Seeing the datagrams takes a packet socket on the loopback device (root); without one the test
skips."""
import os
import socket
import struct
import time

import fc

SEND = os.path.join(fc.BIN, "freshcam-send")
VIEW = os.path.join(fc.BIN, "freshcam-view")
PASS = "correct horse battery staple 4 freshcam udp"
# The start of every JPEG freshcam-send encodes (SOI, then the JFIF APP0 segment): 11 bytes, so
# that ciphertext holds it by chance with odds of about 1e-23 a datagram. (The 3 bytes of SOI
# alone turned up by chance in about 2% of runs: 300 datagrams of 1200 random bytes.)
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
SEALED = 0x80  # the type's bit that says sealed (docs/UDP.md)
CHUNK = 1
FORGED = 100  # forged chunks, each far ahead of every genuine number
PLAIN = 10  # unsealed keep-alives with the right conn
REPLAYS = 20  # copies of one genuine chunk


def env_with(passphrase):
    env = dict(os.environ)
    env["FRESHCAM_PASSPHRASE"] = passphrase
    return env


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture_socket():
    """A packet socket on lo, or fc.Skip."""
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind(("lo", 0))
    except (PermissionError, OSError) as e:
        raise fc.Skip(f"seeing loopback datagrams needs a packet socket (root): {e}")
    s.settimeout(0.2)
    return s


def udp_of(frame):
    """(source port, destination port, payload) of an IPv4 UDP packet on lo, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 17:
        return None
    sport, dport, length = struct.unpack(">HHH", ip[ihl:ihl + 6])
    return sport, dport, ip[ihl + 8:ihl + length]


def watch(cap, port, seconds, want):
    """The datagrams to and from the viewer's UDP port (captured once each: lo shows a packet
    going out and coming in), until `want` sealed chunks came or the time is up."""
    seen, chunks, end = [], 0, time.monotonic() + seconds
    while chunks < want and time.monotonic() < end:
        try:
            frame, addr = cap.recvfrom(65536)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        u = udp_of(frame)
        if u and port in (u[0], u[1]):
            seen.append(u)
            chunks += u[1] == port and len(u[2]) > 3 and u[2][3] == SEALED | CHUNK
    return seen


def shown_now(v):
    lines = v.stats()
    return lines[-1]["shown"] if lines else 0


def forge(sample, to):
    """Sends the forgeries, the unsealed keep-alives and the replays from a stranger's socket;
    paced, so that loopback loses none of them (its only loss is a full socket buffer)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(FORGED):
            pn = struct.pack(">Q", (1 << 40) + i)
            s.sendto(sample[:16] + pn + os.urandom(len(sample) - 24), to)
            time.sleep(0.002)
        keepalive = sample[:3] + bytes([5]) + sample[4:8] + bytes(8)
        for _ in range(PLAIN):
            s.sendto(keepalive, to)
            time.sleep(0.002)
        for _ in range(REPLAYS):
            s.sendto(sample, to)
            time.sleep(0.002)


def test_private_stream_over_udp():
    """sealed both ways, no JPEG on the wire; forged, unsealed and replayed datagrams refused and
    counted, the sender's address unmoved, the stream goes on"""
    cap = capture_socket()
    port, uport = fc.free_port(), free_udp_port()
    spath = os.path.join(fc.TMP, "send.jsonl")
    vpath = os.path.join(fc.TMP, "view.jsonl")
    s = fc.Proc("send", [SEND, "--listen", f"127.0.0.1:{port}", "--transport", "udp",
                         "--stats-json", spath], spath, env=env_with(PASS))
    fc.wait_listening(port, timeout=10)
    v = fc.Proc("view", [VIEW, "--headless", f"127.0.0.1:{port}", "--transport", "udp",
                         "--udp-port", str(uport), "--seconds", "8", "--stats-json", vpath],
                vpath, env=env_with(PASS))
    seen = watch(cap, uport, 6, 300)
    cap.close()
    chunks = [p for sp, dp, p in seen if dp == uport and len(p) > 3 and p[3] == SEALED | CHUNK]
    back = [p for sp, dp, p in seen if sp == uport]
    ours = [p for _, _, p in seen if p[:3] == b"FD\x01"]
    fc.check(len(chunks) >= 100, f"sealed chunks seen on the wire ({len(chunks)})", s, v)
    fc.check(len(back) >= 1, f"datagrams seen from the viewer ({len(back)})", s, v)
    fc.check(len(ours) == len(seen) and all(p[3] & SEALED for p in ours),
             f"every datagram both ways is sealed ({len(ours)} of {len(seen)})", s, v)
    fc.check(not any(JPEG_START in p for _, _, p in seen), "no JPEG start in any datagram", s, v)
    if not chunks:
        v.stop()
        s.stop()
        return
    # Frames shown before the forgeries, so that "after" means something (at most 5 s).
    end = time.monotonic() + 5
    while shown_now(v) < 30 and time.monotonic() < end:
        time.sleep(0.1)
    before = shown_now(v)
    fc.check(before >= 30, f"frames shown before the forgeries ({before})", v, s)
    sender_at = next(sp for sp, dp, p in seen if dp == uport)
    forge(chunks[0], ("127.0.0.1", uport))
    fc.check(v.wait(30) == 0, "viewer exits 0", v, s)
    s.stop()
    sm = v.summary()
    udp = sm.get("udp", {})
    refused = udp.get("refused", {})
    fc.check(udp.get("sealed") is True, "the viewer's udp figures say sealed", v)
    fc.check(refused.get("not_opened") == FORGED + PLAIN,
             f"every forged and unsealed datagram refused and counted "
             f"({refused.get('not_opened')} of {FORGED + PLAIN})", v)
    fc.check(refused.get("replayed") == REPLAYS,
             f"every replayed copy refused and counted ({refused.get('replayed')} of {REPLAYS})",
             v)
    fc.check(udp.get("sender_moved") == 0,
             f"the sender's address never moved to the stranger's "
             f"(moved {udp.get('sender_moved')}; it sends from port {sender_at})", v)
    fc.check(sm["shown"] > before + 30,
             f"frames shown after the forgeries ({before} before, {sm['shown']} at the end)", v, s)
    fc.check(sm["corrupt"] == 0, "no corrupt frame", v)
    fc.check_speed(sm["shown_fps"] > 20, f"shown at {sm['shown_fps']} fps", v, s)


if __name__ == "__main__":
    fc.main(test_private_stream_over_udp)
