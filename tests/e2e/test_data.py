"""End to end: JSON documents that travel with their frames (docs/PROTOCOL.md, section 10).

On the camera's side a local program hands freshcam-send documents on its --data-in socket; on
the viewing side a local program reads them off freshcam-view's --data-out socket, each with the
sequence number of the frame it came with, and writes results back, which reach the camera
side's program. A document comes out only with an accepted frame, is kept in the recording next
to its frame (data.jsonl beside index.csv, joined by seq), and is counted in --stats-json. Bad
documents are refused with a line that says why, and the stream goes on. A viewer that sends a
DATA breaking the rules loses its own connection and nothing else."""
import csv
import json
import os
import socket
import struct
import subprocess
import time

import fc
import wire

LAGPROXY = os.path.join(fc.BIN, "tools", "lagproxy", "lagproxy")
DATA = 11  # the message type (docs/PROTOCOL.md, section 10)


class Lines:
    """A JSON Lines connection to a Unix socket, read with a deadline."""

    def __init__(self, path, timeout=5):
        end = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > end:
                    raise AssertionError(f"nothing listens on {path} after {timeout} s")
                time.sleep(0.05)
        self.buf = b""

    def send(self, obj_or_bytes):
        data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
        self.sock.sendall(data + b"\n")

    def read(self, wait=0.0):
        """Every whole line that came within wait seconds, parsed."""
        end = time.monotonic() + wait
        while True:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
            except socket.timeout:
                break
            if time.monotonic() >= end:
                break
        lines, _, self.buf = self.buf.rpartition(b"\n")
        return [json.loads(x) for x in lines.split(b"\n") if x.strip()]

    def close(self):
        self.sock.close()


def pair(name, *viewer_args, sender_args=(), relay_ms=0, seconds=None):
    """A sender with --data-in, and a viewer of it with --data-out (through a lagproxy adding
    relay_ms each way when not 0); returns (sender, viewer, in-socket path, out-socket path)."""
    din = os.path.join(fc.TMP, f"{name}-in.sock")
    dout = os.path.join(fc.TMP, f"{name}-out.sock")
    port = fc.free_port()
    s = fc.sender("--size", "320x240", "--quiet", "--data-in", din, *sender_args, port=port,
                  name=f"{name}-send")
    fc.wait_listening(port)
    if relay_ms:
        rport = fc.free_port()
        fc.Proc(f"{name}-lagproxy", [LAGPROXY, "--listen", f"127.0.0.1:{rport}", "--connect",
                                     f"127.0.0.1:{port}", "--delay", str(relay_ms), "--seconds",
                                     "60"])
        fc.wait_listening(rport)
        port = rport
    extra = ["--seconds", str(seconds)] if seconds else []
    v = fc.viewer(port, "--quiet", "--data-out", dout, *extra, *viewer_args, name=f"{name}-view")
    return s, v, din, dout


def index_seqs(rec):
    with open(os.path.join(rec, "index.csv")) as f:
        return {int(row["seq"]) for row in csv.DictReader(f)}


def test_documents_with_their_frames():
    """documents handed to the sender come out of the viewer with the frame that left after
    them, in order, each once, with seq numbers of recorded frames; the recording's data.jsonl
    and --stats-json hold the same; a result written back reaches the sender's program"""
    rec = os.path.join(fc.TMP, "with-rec")
    s, v, din, dout = pair("with", "--record", rec)
    feed, out = Lines(din), Lines(dout)
    got, sent_at = [], {}
    for n in range(30):
        sent_at[n] = time.time_ns()
        feed.send({"n": n, "temp_c": 20 + n / 10, "pose": [n, -n, 0.5]})
        got += out.read(0.1)
    got += out.read(0.5)
    ns = [g["data"]["n"] for g in got]
    seqs = [g["seq"] for g in got]
    fc.check(len(got) >= 20, f"documents out with frames ({len(got)} of 30)", v, s)
    fc.check(ns == sorted(set(ns)) and seqs == sorted(set(seqs)),
             "each document once, in order, each with its own frame", v)
    fc.check(all(g["data"] == {"n": g["data"]["n"], "temp_c": 20 + g["data"]["n"] / 10,
                               "pose": [g["data"]["n"], -g["data"]["n"], 0.5]} for g in got),
             "each document exactly as handed in", v)
    fc.check(all(g["recv_unix_ns"] > sent_at[g["data"]["n"]] for g in got),
             "each came with a frame that arrived after it was handed in", v)
    fc.check(all(0 <= g["bound_ms"] <= 80 for g in got), "each frame's bound within the budget",
             v)
    fc.check_speed(all(g["recv_unix_ns"] - sent_at[g["data"]["n"]] < 1e9 for g in got),
                   "each came within 1 s (the next frame or so; 33 ms on an idle machine)", v)

    # A result for the newest frame goes back to the camera's side.
    last = got[-1]["seq"] if got else 1
    out.send({"seq": last, "data": {"boxes": [[10, 20, 30, 40]], "label": "caf\u00e9"}})
    back = feed.read(2.0)
    fc.check(len(back) == 1 and back[0]["seq"] == last and
             back[0]["result"] == {"boxes": [[10, 20, 30, 40]], "label": "caf\u00e9"} and
             back[0]["viewer"].startswith("127.0.0.1:"),
             f"the result reached the sender's program with its seq ({back})", s)
    out.send({"seq": last + 10**9, "data": 1})
    err = out.read(2.0)
    fc.check(len(err) == 1 and "was not given" in err[0].get("error", ""),
             f"a result for a frame never given is refused ({err})", v)
    feed.close()
    out.close()
    fc.check(v.stop() == 0, "the viewer exits 0", v)
    s.stop()

    with open(os.path.join(rec, "data.jsonl")) as f:
        side = [json.loads(x) for x in f]
    fc.check([(x["seq"], x["data"]) for x in side] == [(g["seq"], g["data"]) for g in got],
             f"the recording's data.jsonl holds the same documents ({len(side)})", v)
    recorded = index_seqs(rec)
    fc.check(all(x["seq"] in recorded for x in side),
             "each document's frame is in the recording (index.csv, by seq)", v)
    sm = v.summary()
    # On a busy machine a frame may be late even on loopback: its document is then rejected.
    fc.check(sm["data_frames"] == len(got) and sm["data_out_dropped"] == 0 and
             sm["data_results"] == 1,
             f"--stats-json counts them ({sm['data_frames']} frames with a document, "
             f"{sm['data_rejected']} with a rejected one, {sm['data_results']} result)", v)
    din_fig = s.summary().get("data_in", {})
    fc.check(din_fig.get("docs") == 30 and din_fig.get("refused") == 0 and
             din_fig.get("sent") == len(got) + sm["data_rejected"] and
             din_fig.get("results") == 1,
             f"the sender's --stats-json counts them too ({din_fig})", s)
    fc.check(sm.get("data", {}).get("doc") == got[-1]["data"] if got else False,
             "--stats-json's data is the newest document", v)
    per_second = [x for x in v.stats()[:-1] if "data" in x]
    fc.check(per_second and all(x["data"]["seq"] in recorded for x in per_second),
             f"per-second lines carry the newest of their second ({len(per_second)})", v)


def test_bad_documents_refused():
    """an over-size document, broken JSON and an over-long line each get an error line naming
    the line and why; the stream and the next good document go on"""
    s, v, din, dout = pair("bad")
    feed, out = Lines(din), Lines(dout)
    feed.send({"ok": 1})
    feed.send(b'{"big":"' + b"x" * 5000 + b'"}')
    feed.send(b'{"broken": [1, 2}')
    feed.send(b"y" * 20000)
    feed.send(b'"\xc3\x28"')
    time.sleep(0.3)
    feed.send({"ok": 2, "pad": "x" * 4000})  # 4017 bytes compacted: near the limit, and in
    errs = feed.read(1.5)
    fc.check([e.get("line") for e in errs] == [2, 3, 4, 5],
             f"four refusals, each naming its line ({errs})", s)
    fc.check(len(errs) == 4 and "at most 4096" in errs[0]["error"] and
             "missing ','" in errs[1]["error"] and "longer than" in errs[2]["error"] and
             "UTF-8" in errs[3]["error"], "each says why", s)
    got = out.read(1.0)
    fc.check(got and got[-1]["data"] == {"ok": 2, "pad": "x" * 4000},
             "the next good document, of 4017 bytes, goes through whole", v)
    time.sleep(1.0)
    fc.check(v.stop() == 0 and v.summary()["shown"] > 30, "the stream went on all along", v)
    fc.check(s.p.poll() is None, "the sender runs on", s)
    s.stop()
    fc.check(s.summary().get("data_in", {}).get("refused") == 4,
             "the sender counts the four refused", s)


def test_rejected_frames_carry_no_document():
    """through a 60 ms relay with a 50 ms budget every frame is rejected: documents come with
    them (counted) but none comes out, and the recording gets none"""
    if not os.path.exists(LAGPROXY):
        raise fc.Skip("tools/lagproxy is not built")
    rec = os.path.join(fc.TMP, "late-rec")
    s, v, din, dout = pair("late", "--max-age", "50", "--record", rec, relay_ms=60)
    feed, out = Lines(din), Lines(dout)
    got = []
    for n in range(20):
        feed.send({"n": n})
        got += out.read(0.1)
    fc.check(v.stop() == 0, "the viewer exits 0", v)
    sm = v.summary()
    fc.check(sm["rejected"] > 20 and sm["accepted"] == 0, f"every frame rejected "
             f"({sm['rejected']})", v)
    fc.check(sm["data_rejected"] >= 10 and sm["data_frames"] == 0 and "data" not in sm,
             f"documents came with rejected frames ({sm['data_rejected']}) and were dropped", v)
    fc.check(got == [] and not os.path.exists(os.path.join(rec, "data.jsonl")),
             "none reached the program or the recording", v)
    s.stop()


def test_stdin_and_fifo():
    """--data-in - takes documents on standard input; --data-out to an existing FIFO writes
    them there; a video recording gets its documents in FILE.mkv.data.jsonl beside it"""
    fifo = os.path.join(fc.TMP, "out.fifo")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    port = fc.free_port()
    s = subprocess.Popen([os.path.join(fc.BIN, "freshcam-send"), "--listen", f"127.0.0.1:{port}",
                          "--size", "320x240", "--quiet", "--data-in", "-", "--seconds", "20"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        fc.wait_listening(port)
        mkv = os.path.join(fc.TMP, "fifo.mkv")
        v = fc.viewer(port, "--quiet", "--data-out", fifo, "--record", mkv, name="fifo-view")
        buf = b""
        for n in range(20):
            s.stdin.write(json.dumps({"from": "stdin", "n": n}).encode() + b"\n")
            s.stdin.flush()
            time.sleep(0.1)
            try:
                buf += os.read(reader, 65536)
            except BlockingIOError:
                pass
        lines = [json.loads(x) for x in buf.split(b"\n") if x.strip()]
        fc.check(len(lines) >= 10 and all(x["data"]["from"] == "stdin" for x in lines),
                 f"documents from standard input came out of the FIFO ({len(lines)})", v)
        fc.check(v.stop() == 0, "the viewer exits 0", v)
        with open(mkv + ".data.jsonl") as f:
            side = [json.loads(x) for x in f]
        # The FIFO was read while documents came; the file has those, and any that came after.
        fc.check([x["seq"] for x in side][:len(lines)] == [x["seq"] for x in lines] and
                 len(side) >= len(lines) and os.path.getsize(mkv) > 0,
                 f"the .mkv has its documents beside it ({len(side)} in {mkv}.data.jsonl)", v)
    finally:
        s.kill()
        s.wait()
        os.close(reader)


def fake_viewer(port):
    p = wire.Peer.dial(port)
    p.send(wire.hello(wire.ROLE_VIEWER, window=1, budget_us=80000))
    assert p.recv_until(wire.HELLO) is not None, "the sender did not answer the HELLO"
    return p


def test_hostile_data_from_a_viewer():
    """a DATA answering a frame never sent, one that is not JSON, and one over the limit each end
    their own connection with a BYE 3 that says why; a real viewer streams on"""
    s, good, din, dout = pair("hostile", seconds=8)
    port = int(s.args[s.args.index("--listen") + 1].rsplit(":", 1)[1])
    time.sleep(1.0)
    for what, payload, text in (
            ("a frame never sent", struct.pack(">Q", 10**12) + b'{"a":1}', "not sent to it"),
            ("not JSON", struct.pack(">Q", 1) + b'{"a":', "field out of range"),
            ("over the limit", struct.pack(">Q", 1) + b"1" * 4097, "length out of bounds")):
        p = fake_viewer(port)
        p.send(wire.message(DATA, payload))
        got = p.bye_text()
        fc.check(got is not None and got[0] == 3 and text in got[1] and p.wait_closed(),
                 f"{what}: BYE 3 with '{text}' (got {got})", s)
        p.close()
    fc.check(good.wait(20) == 0, "the real viewer ran to its end", good, s)
    sm = good.summary()
    fc.check_speed(sm["shown"] > 150, f"and kept its rate ({sm['shown']} shown in 8 s)", good)
    s.stop()


def test_each_sender_its_own_documents():
    """with several senders each has its own --data-out socket (PATH-NAME) and its own
    data.jsonl in its own recording, and a document never comes out with another sender's
    frames"""
    rec = os.path.join(fc.TMP, "fleet-rec") + "/"
    dout = os.path.join(fc.TMP, "fleet-out.sock")
    senders, feeds, ports = [], {}, []
    for name in ("cam-a", "cam-b"):
        din = os.path.join(fc.TMP, f"{name}-in.sock")
        port = fc.free_port()
        senders.append(fc.sender("--size", "320x240", "--quiet", "--name", name, "--data-in", din,
                                 port=port, name=f"{name}-send"))
        fc.wait_listening(port)
        feeds[name] = Lines(din)
        ports.append(port)
    v = fc.viewer(ports[0], f"127.0.0.1:{ports[1]}", "--quiet", "--data-out", dout, "--record",
                  rec, name="fleet-view")
    outs = {name: Lines(f"{dout}-{name}") for name in feeds}
    got = {name: [] for name in feeds}
    for n in range(20):
        for name, feed in feeds.items():
            feed.send({"from": name, "n": n})
        for name, out in outs.items():
            got[name] += out.read(0.05)
    for name, out in outs.items():
        got[name] += out.read(0.5)
        out.close()
    for name in feeds:
        fc.check(len(got[name]) >= 10 and all(g["data"]["from"] == name for g in got[name]),
                 f"{name}'s socket has {name}'s documents only ({len(got[name])} of 20)", v)
    fc.check(v.stop() == 0, "the viewer exits 0", v)
    for name, feed in feeds.items():
        feed.close()
    for s in senders:
        s.stop()
    for name in feeds:
        with open(os.path.join(rec, name, "data.jsonl")) as f:
            side = [json.loads(x) for x in f]
        fc.check(side and all(x["data"]["from"] == name for x in side) and
                 {x["seq"] for x in side} <= index_seqs(os.path.join(rec, name)),
                 f"{name}'s recording keeps its own documents, with its recorded frames", v)


if __name__ == "__main__":
    fc.main(test_documents_with_their_frames, test_bad_documents_refused,
            test_rejected_frames_carry_no_document, test_stdin_and_fifo,
            test_hostile_data_from_a_viewer,
            test_each_sender_its_own_documents)
