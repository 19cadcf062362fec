"""End to end: what a person meets at the command line — help, versions, bad options,
unreachable hosts, ports in use, a peer of another protocol version, a full sender, a garbage
peer, and the sender dialling a listening viewer."""
import os
import socket
import struct
import time

import fc
import wire

SEND = os.path.join(fc.BIN, "freshcam-send")
VIEW = os.path.join(fc.BIN, "freshcam-view")


def test_help_and_version():
    """--help shows examples and exits 0; --version names the protocol and the project's version
    from CMakeLists.txt's project() (the one place it is set; the package takes it too)"""
    version = fc._cache("CMAKE_PROJECT_VERSION")
    fc.check(version != "", f"the build's CMakeCache.txt has the project version ({fc.BIN})")
    for prog in (SEND, VIEW):
        name = os.path.basename(prog)
        rc, out = fc.run([prog, "--help"])
        fc.check(rc == 0 and "Examples:" in out and "--seconds" in out, f"{name} --help")
        rc, out = fc.run([prog, "--version"])
        fc.check(rc == 0 and out.startswith(f"{name} {version} ")
                 and f"protocol {wire.VERSION}" in out, f"{name} --version: {out!r}")


def test_bad_options():
    """each bad option is refused with exit 2 and a message naming it"""
    cases = [
        (SEND, ["--size", "641x480"], "even"),
        (SEND, ["--size", "big"], "WIDTHxHEIGHT"),
        (SEND, ["--fps", "abc"], "--fps 'abc'"),
        (SEND, ["--quality", "0"], "--quality 0: out of range"),
        (SEND, ["--encoders", "9"], "--encoders 9: out of range"),
        (SEND, ["--stats-every", "0"], "--stats-every 0: out of range"),
        (SEND, ["--listen", "host:99999"], "port must be a number"),
        (SEND, ["--listen", "1", "--connect", "a:2"], "exclude each other"),
        (SEND, ["--frobnicate"], "Try 'freshcam-send --help'"),
        (SEND, ["--name", ""], "a name is 1 to 64 characters"),
        (SEND, ["--name", "robot\t7"], "character 6 is not printable ASCII"),
        (VIEW, ["--max-age", "-5"], "--max-age -5: out of range"),
        (VIEW, ["--window", "99"], "--window 99: out of range"),
        (VIEW, ["--keep", "5"], "--keep '5': expected a size"),
        (VIEW, ["--segment", "60"], "--segment needs --record"),
        (VIEW, ["--record", "d/", "--keep", "1GB"], "--keep needs --segment"),
        (VIEW, [f"h{i}:1" for i in range(17)], "at most 16 senders at once"),
        (VIEW, ["--listen", "1", "h:2"], "exclude each other"),
    ]
    for prog, args, want in cases:
        rc, out = fc.run([prog] + args)
        fc.check(rc == 2 and want in out, f"{os.path.basename(prog)} {' '.join(args)} -> {out.strip()!r}")


def test_unreachable_sender():
    """a viewer pointed at a closed port says so at once and exits 1"""
    port = fc.free_port()
    t0 = time.monotonic()
    rc, out = fc.run([VIEW, "--headless", f"127.0.0.1:{port}"])
    fc.check(rc == 1 and "Connection refused" in out and f"127.0.0.1:{port}" in out
             and "is freshcam-send running" in out and time.monotonic() - t0 < 5,
             f"unreachable sender: {out.strip()!r}")


def test_port_in_use():
    """a sender (or listening viewer) on a port in use names the port and what to do"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        for prog in (SEND, VIEW):
            rc, out = fc.run([prog, "--listen", f"127.0.0.1:{port}", "--seconds", "1"]
                             + (["--headless"] if prog == VIEW else []))
            fc.check(rc == 1 and "Address already in use" in out and str(port) in out
                     and "another" in out, f"{os.path.basename(prog)} port in use: {out.strip()!r}")


OLD = wire.VERSION - 1


def hello_old_sender():
    """A HELLO as freshcam 0.1's protocol 2 sends it (before renditions: no viewer's floor)."""
    name = b"freshcam-send 0.1.0"
    payload = struct.pack(">BBHIHHIBB", 1, 1, 0, 0, 640, 480, 30000, 0, len(name)) + bytes(32)
    return b"FC" + bytes([OLD, 1]) + struct.pack(">I", len(payload + name)) + payload + name


def hello_old_viewer():
    name = b"freshcam-view 0.1.0"
    payload = struct.pack(">BBHIHHIBB", 2, 0, 2, 80000, 0, 0, 0, 0, len(name)) + bytes(32)
    return b"FC" + bytes([OLD, 1]) + struct.pack(">I", len(payload + name)) + payload + name


def read_messages(sock, timeout=3):
    """Reads (type, payload) pairs until the peer closes or the timeout passes."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    msgs = []
    while len(data) >= 8:
        (length,) = struct.unpack(">I", data[4:8])
        msgs.append((data[3], data[8:8 + length]))
        data = data[8 + length:]
    return msgs


def test_version_mismatch():
    """against a peer of the previous protocol each side says what the other speaks, and exits
    or goes on"""
    # A viewer meeting an old sender.
    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen()
        port = ls.getsockname()[1]
        v = fc.viewer(port, json=False)
        conn, _ = ls.accept()
        with conn:
            conn.sendall(hello_old_sender())
            msgs = read_messages(conn)
        fc.check(v.wait(10) == 1, "the viewer exits 1", v)
        fc.check(f"peer speaks freshcam protocol {OLD}, this side speaks {wire.VERSION}"
                 in v.output(), "the viewer says what each side speaks", v)
        byes = [p for t, p in msgs if t == 7]
        fc.check(byes and f"speaks freshcam protocol {wire.VERSION}".encode() in byes[0],
                 f"the viewer tells the old peer what it speaks ({byes})")
    # A sender meeting an old viewer: it says so, tells the peer, and goes on serving.
    port = fc.free_port()
    s = fc.sender(port=port, json=False)
    fc.wait_listening(port)
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(hello_old_viewer())
        msgs = read_messages(c)
    byes = [p for t, p in msgs if t == 7]
    fc.check(byes and f"speaks freshcam protocol {wire.VERSION}".encode() in byes[0],
             f"the sender tells the old viewer ({byes})")
    v = fc.viewer(port, "--seconds", "1.5")
    fc.check(v.wait(10) == 0 and v.summary()["shown"] > 0, "the sender still serves others", v, s)
    s.stop()
    fc.check(f"protocol {OLD}, this side speaks {wire.VERSION}" in s.output(),
             "the sender logs the mismatch", s)


def test_sender_full():
    """with --max-viewers 1 a second viewer is told the sender is full"""
    port = fc.free_port()
    s = fc.sender("--max-viewers", "1", port=port, json=False)
    fc.wait_listening(port)
    first = fc.viewer(port, "--seconds", "4", name="first")
    time.sleep(1)
    rc, out = fc.run([VIEW, "--headless", f"127.0.0.1:{port}", "--seconds", "2"])
    fc.check(rc == 1 and "sender full" in out and "at most 1 viewer " in out,
             f"second viewer refused: {out.strip()!r}")
    fc.check(first.wait(20) == 0 and first.summary()["shown"] > 0, "the first goes on", first)
    s.stop()


def test_garbage_peer():
    """a peer sending garbage loses its connection with a logged reason; a viewer goes on"""
    port = fc.free_port()
    s = fc.sender(port=port, json=False)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "3")
    time.sleep(1)
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        msgs = read_messages(c)
    fc.check(any(t == 7 for t, _ in msgs), "the garbage peer gets a BYE before the close")
    fc.check(v.wait(20) == 0, "the viewer finishes", v)
    lines = [l for l in v.stats() if not l["summary"]]
    fc.check(len(lines) >= 2 and all(l["shown_fps"] > 0 for l in lines[1:]),
             f"the viewer got frames every second ({[l['shown_fps'] for l in lines]})", v)
    fc.check_speed(all(l["shown_fps"] > 20 for l in lines[1:]),
                   f"the viewer never slowed ({[l['shown_fps'] for l in lines]})", v)
    s.stop()
    fc.check("bad magic" in s.output(), "the sender logs why it closed the garbage peer", s)


def test_sender_dials_listening_viewer():
    """--connect on the sender and --listen on the viewer: a camera behind NAT dials out"""
    port = fc.free_port()
    v = fc.Proc("view", [VIEW, "--headless", "--listen", f"127.0.0.1:{port}", "--seconds", "4",
                         "--check-stamps", "--stats-json", os.path.join(fc.TMP, "dial.jsonl")],
                os.path.join(fc.TMP, "dial.jsonl"))
    # A stray connection first (a port probe): the listening viewer must shrug it off.
    fc.wait_listening(port)
    s = fc.sender("--connect", f"127.0.0.1:{port}", json=False)
    fc.check(v.wait(20) == 0, "the listening viewer finishes", v, s)
    s.stop()
    sm = v.summary()
    fc.check(sm["shown"] > 50 and sm["stamp_over_budget"] == 0,
             f"frames shown through the dialled connection ({sm['shown']})", v, s)


def test_stats_json_full_disk():
    """a --stats-json file that cannot be written (a full disk) is said once, and the stream goes on"""
    port = fc.free_port()
    s = fc.sender(port=port, json=False)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "4", "--stats-json", "/dev/full", json=False)
    fc.check(v.wait(20) == 0, "the viewer finishes as asked", v, s)
    s.stop()
    out = v.output()
    said = [l for l in out.splitlines() if "cannot write --stats-json /dev/full" in l]
    fc.check(len(said) == 1 and "No space left on device" in said[0],
             f"said once, with the file and why ({len(said)} times)", v)
    after = out[out.find("cannot write --stats-json"):]
    fc.check(after.count(" shown ") >= 2 and "summary:" in after,
             "the viewer went on showing frames, to its summary", v)


def test_stats_every():
    """--stats-every 2: the sender's figures (console line and JSON) every 2 s, each over its own
    interval, and the summary at the end as always (a service's journal gets a line a minute)"""
    port = fc.free_port()
    s = fc.sender("--stats-every", "2", "--seconds", "5", port=port)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "6", json=False)
    fc.check(s.wait(20) == 0, "the sender stops after --seconds", s)
    v.wait(20)
    ticks = [l for l in s.stats() if not l["summary"]]
    times = [round(l["t"], 1) for l in ticks]
    fc.check(len(ticks) == 2 and all(abs(t - w) < 0.5 for t, w in zip(times, (2, 4))),
             f"a JSON line at 2 s and 4 s, none in between ({times})", s)
    fc.check(ticks and ticks[-1]["captured"] > 0 and 0 < ticks[-1]["capture_fps"] < 1000,
             "each line's rate is over its interval (counts 2 s of frames)", s)
    lines = [l for l in s.output().splitlines() if "capture " in l and " fps, encoded" in l]
    fc.check(len(lines) == 3 and "summary:" in lines[-1],
             f"two console lines and the summary ({len(lines)} lines)", s)


if __name__ == "__main__":
    fc.main(test_help_and_version, test_bad_options, test_unreachable_sender, test_port_in_use,
            test_version_mismatch, test_sender_full, test_garbage_peer,
            test_sender_dials_listening_viewer, test_stats_json_full_disk, test_stats_every)
