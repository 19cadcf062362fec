"""End to end over IPv6 loopback (::1): both programs take IPv6 addresses as people write them
and stream over them, in each direction of dialling.

- "[::1]:PORT" to the viewer (as its address, and with --connect) and to the sender (--listen);
  a sender listening on every address (--listen PORT) takes a viewer that dials ::1.
- A bare "::1" (and "[::1]") to the viewer means the default port, 7373, as a bare host name
  does: never host ":" and port 1.
- A sender behind NAT: the viewer --listen [::1]:PORT, the sender --connect [::1]:PORT.
- Where a port is needed (--listen, the sender's --connect), a bare "::1" is refused with the
  way to write one.

Skipped (exit 77) where this host has no IPv6 loopback."""
import os
import socket
import sys
import time

import fc

VIEW = os.path.join(fc.BIN, "freshcam-view")
SEND = os.path.join(fc.BIN, "freshcam-send")
DEFAULT_PORT = 7373


def v6_port():
    """A port free on ::1 (None when there is no IPv6 loopback)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


def v6_port_free(port):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::1", port))
            return True
    except OSError:
        return False


def wait_listening_v6(port, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET6) as s:
            if s.connect_ex(("::1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on [::1]:{port} after {timeout} s")


def send(name, *args):
    path = os.path.join(fc.TMP, f"{name}.jsonl")
    return fc.Proc(name, [SEND, "--size", "320x240", "--fps", "20", "--stats-json", path, *args],
                   path)


def view(name, *args):
    path = os.path.join(fc.TMP, f"{name}.jsonl")
    return fc.Proc(name, [VIEW, "--headless", "--stats-json", path, *args], path)


def streamed(name, v, s, peer_text):
    """The viewer ran to its --seconds, showed frames, and both ends named the other over ::1."""
    fc.check(v.wait(30) == 0, f"{name}: the viewer exits 0 after --seconds", v, s)
    sm = v.summary()
    fc.check(sm["shown"] >= 10, f"{name}: frames shown over ::1 ({sm['shown']})", v, s)
    fc.check(peer_text in v.output(), f"{name}: the viewer names its peer ('{peer_text}')", v)
    fc.check("[::1]:" in s.output(), f"{name}: the sender names the viewer [::1]:PORT", s)


def test_dial_bracketed():
    """the viewer dials [::1]:PORT (as its address and with --connect) a sender on [::1]:PORT"""
    port = v6_port()
    s = send("br-send", "--listen", f"[::1]:{port}")
    wait_listening_v6(port)
    v = view("br-view", f"[::1]:{port}", "--seconds", "2")
    streamed("[::1]:PORT", v, s, f"connected to [::1]:{port}")
    # Read once a viewer has streamed: the line follows the listen, and a slow (sanitizer) build
    # may not have printed it yet when the port is first seen open.
    fc.check(f"waiting for viewers on [::1]:{port}" in s.output(),
             "the sender says where it listens as the address is written", s)
    v = view("br-view-c", "--connect", f"[::1]:{port}", "--seconds", "2")
    streamed("--connect [::1]:PORT", v, s, f"connected to [::1]:{port}")
    s.stop()


def test_any_address_takes_v6():
    """a sender listening on every address (--listen PORT) takes a viewer dialling ::1"""
    port = v6_port()
    s = send("any-send", "--listen", str(port))
    wait_listening_v6(port)
    v = view("any-view", f"[::1]:{port}", "--seconds", "2")
    streamed("--listen PORT", v, s, f"connected to [::1]:{port}")
    s.stop()


def test_bare_default_port():
    """a bare ::1 (and [::1]) dials [::1]:7373, the default port"""
    if not v6_port_free(DEFAULT_PORT):
        # Something here has the default port: the viewer must still aim at it, and say so.
        rc, out = fc.run([VIEW, "--headless", "::1", "--seconds", "1"], timeout=30)
        fc.check(f"[::1]:{DEFAULT_PORT}" in out and "[:]:1" not in out,
                 f"::1 aims at [::1]:{DEFAULT_PORT} (the port is taken here: {out.strip()})")
        return
    s = send("bare-send", "--listen", f"[::1]:{DEFAULT_PORT}")
    wait_listening_v6(DEFAULT_PORT)
    v = view("bare-view", "::1", "--seconds", "2")
    streamed("::1", v, s, f"connected to [::1]:{DEFAULT_PORT}")
    v = view("bare-view-br", "[::1]", "--seconds", "2")
    streamed("[::1]", v, s, f"connected to [::1]:{DEFAULT_PORT}")
    s.stop()


def test_sender_dials_listening_viewer():
    """a viewer --listen [::1]:PORT, a sender --connect [::1]:PORT: the stream flows"""
    port = v6_port()
    v = view("dial-view", "--listen", f"[::1]:{port}", "--seconds", "4")
    wait_listening_v6(port)
    s = send("dial-send", "--connect", f"[::1]:{port}")
    streamed("--connect from the sender", v, s, "connected to [::1]:")
    fc.check(f"dialling viewer [::1]:{port}" in s.output(),
             "the sender says whom it dials as the address is written", s)
    s.stop()


def test_udp_over_v6():
    """--transport udp over ::1: the datagrams' socket takes the connection's family"""
    port = v6_port()
    s = send("udp-send", "--listen", f"[::1]:{port}", "--transport", "udp")
    wait_listening_v6(port)
    v = view("udp-view", f"[::1]:{port}", "--seconds", "2", "--transport", "udp")
    streamed("udp", v, s, f"[::1]:{port}")
    udp = v.summary().get("udp")
    fc.check(udp is not None and udp["frames_whole"] >= 10,
             f"udp: the frames came as datagrams over ::1 ({udp})", v)
    s.stop()


def test_bare_address_needs_a_port():
    """--listen ::1 and the sender's --connect ::1 are refused, saying how to add the port"""
    for args in ([VIEW, "--listen", "::1"], [SEND, "--connect", "::1"], [SEND, "--listen", "::1"]):
        rc, out = fc.run(args)
        fc.check(rc == 2 and "'::1': no port; write it [::1]:PORT" in out,
                 f"{' '.join(os.path.basename(a) for a in args)}: refused with the way to write "
                 f"a port (status {rc}: {out.strip()})")
    rc, out = fc.run([VIEW, "--headless", "host:1:2"])
    fc.check(rc == 2 and "neither HOST:PORT nor an IPv6 address" in out,
             f"host:1:2 is refused as neither (status {rc}: {out.strip()})")


if __name__ == "__main__":
    if v6_port() is None:
        print("skipped: no IPv6 loopback here (::1)")
        sys.exit(77)
    fc.main(test_dial_bracketed, test_any_address_takes_v6, test_bare_default_port,
            test_sender_dials_listening_viewer, test_udp_over_v6, test_bare_address_needs_a_port)
