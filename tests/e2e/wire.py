"""The freshcam wire format (docs/PROTOCOL.md), enough of it for tests to play a peer that breaks
the rules: encode any message (including ones freshcam would never send), and read messages off
a socket with a deadline. Standard library only. Plaintext only: a peer without a passphrase."""
import socket
import struct
import time

VERSION = 6
HELLO, REQUEST, FRAME, VERDICT, PING, PONG, BYE, STATUS = range(1, 9)
ROLE_SENDER, ROLE_VIEWER = 1, 2
NAMES = {HELLO: "HELLO", REQUEST: "REQUEST", FRAME: "FRAME", VERDICT: "VERDICT", PING: "PING",
         PONG: "PONG", BYE: "BYE", STATUS: "STATUS"}


def message(mtype, payload, version=VERSION):
    return b"FC" + bytes([version, mtype]) + struct.pack(">I", len(payload)) + payload


def hello(role, window=0, budget_us=0, width=0, height=0, fps_milli=0, name=b"wire.py",
          flags=0, min_width=0, min_height=0, min_quality=0, station=b"wire", udp_port=0, conn=0):
    # role, codec, window, budget, width, height, fps, flags, name length, nonce[32], the
    # viewer's floor (min width, height, quality), station length, (version 6) the UDP port and
    # conn, station, name
    codec = 1 if role == ROLE_SENDER else 0
    return message(HELLO, struct.pack(">BBHIHHIBB", role, codec, window, budget_us, width, height,
                                      fps_milli, flags, len(name)) + bytes(32)
                   + struct.pack(">HHBBHI", min_width, min_height, min_quality, len(station),
                                 udp_port, conn)
                   + station + name)


def request(rid, t0_ns):
    return message(REQUEST, struct.pack(">IQ", rid, t0_ns))


def frame(rid, t0_ns, held_ns, age_ns, seq, width=16, height=16, jpeg=b"", src_width=None,
          src_height=None, quality=80, send_ns=None, send_real_ns=0):
    """A FRAME; send_ns (S2) defaults to this host's monotonic clock now, as a sender's would."""
    if send_ns is None:
        send_ns = time.monotonic_ns()
    return message(FRAME, struct.pack(">IQQQQHHHHBQQ", rid, t0_ns, held_ns, age_ns, seq, width,
                                      height, src_width or width, src_height or height, quality,
                                      send_ns, send_real_ns)
                   + jpeg)


def pong(token, clock_ns=None):
    return message(PONG, struct.pack(">QQ", token, time.monotonic_ns() if clock_ns is None
                                     else clock_ns))


def verdict(rid, seq, bound_us=1000, accepted=True, recv_us=0, gap_us=0):
    return message(VERDICT, struct.pack(">IQIBII", rid, seq, bound_us, 1 if accepted else 2,
                                        recv_us, gap_us))


def status(source, text=b""):
    return message(STATUS, struct.pack(">BBH", source, 0, len(text)) + text)


def bye(reason, text=b""):
    return message(BYE, struct.pack(">HH", reason, len(text)) + text)


class Peer:
    """One connection, read with deadlines. msgs() returns (type, payload) tuples."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.backlog = []
        self.closed = False

    @classmethod
    def dial(cls, port, timeout=5):
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout))

    def send(self, data):
        self.s.sendall(data)

    def recv(self, timeout=5):
        """The next message, or None when the peer closed or nothing came in time."""
        end = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 8:
                n = struct.unpack(">I", self.buf[4:8])[0]
                if len(self.buf) >= 8 + n:
                    mtype, payload = self.buf[3], self.buf[8:8 + n]
                    self.buf = self.buf[8 + n:]
                    return mtype, payload
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            except ConnectionError:
                data = b""
            if not data:
                self.closed = True
            self.buf += data

    def recv_until(self, mtype, timeout=5):
        """The next message of mtype, earlier ones of other types kept for later calls (a
        viewer's REQUESTs and VERDICTs interleave); None if the peer closed or time ran out."""
        for i, m in enumerate(self.backlog):
            if m[0] == mtype:
                return self.backlog.pop(i)
        end = time.monotonic() + timeout
        while True:
            m = self.recv(max(0.0, end - time.monotonic()))
            if m is None or m[0] == mtype:
                return m
            # Answer PINGs so that a long wait does not look like a dead peer.
            if m[0] == PING:
                self.send(pong(struct.unpack(">Q", m[1])[0]))
            else:
                self.backlog.append(m)

    def bye_text(self, timeout=6):
        """Waits for the peer's BYE: (reason, text), or None if it closed without one."""
        m = self.recv_until(BYE, timeout)
        if m is None:
            return None
        reason, n = struct.unpack(">HH", m[1][:4])
        return reason, m[1][4:4 + n].decode(errors="replace")

    def wait_closed(self, timeout=6):
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            self.recv(max(0.0, end - time.monotonic()))
        return self.closed

    def close(self):
        self.s.close()


def parse_frame(payload):
    rid, t0, held, age, seq, w, h, sw, sh, q, send, send_real = struct.unpack(
        ">IQQQQHHHHBQQ", payload[:61])
    return {"id": rid, "t0": t0, "held": held, "age": age, "seq": seq, "width": w, "height": h,
            "src_width": sw, "src_height": sh, "quality": q, "send_ns": send,
            "send_real_ns": send_real, "jpeg": payload[61:]}


def parse_verdict(payload):
    rid, seq, bound_us, kind, recv_us, gap_us = struct.unpack(">IQIBII", payload)
    return {"id": rid, "seq": seq, "bound_us": bound_us, "accepted": kind == 1,
            "recv_us": recv_us, "gap_us": gap_us}
