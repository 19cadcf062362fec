#!/usr/bin/env python3
"""bench/parts_send.py: what frames in parts (issue 19, docs/PROTOCOL.md section 14) save the sender's
side of a frame's age, next to tjbench's encode and decode of the same frames.

For each picture size, interleaved --runs times, freshcam-send (test pattern, 30 fps, quality 80,
its --encoders default) with --parts on and --parts off, each streamed to the small viewer of
tests/e2e/test_parts.py (it takes parts and the full picture always, on loopback) for --seconds.
Per frame it takes the age at the last byte in: this host's CLOCK_MONOTONIC when the frame's
last message was read, less its capture time (the frame's send_ns - age_ns: on one host the
sender's clock is this one). That is capture to last byte: encode, sending and reading, without
the viewer's decode (freshcam-view's, measured with it: issue 19, viewer side). It also takes
the sender's CPU per frame (/proc, user + system, over the frames sent) and runs tjbench on the
first frame of the run (decoded by djpeg to a PPM): compress from YUV plus decompress to YUV,
the serial sum a frame's age sat on before parts.

Prints a Markdown table: per size and mode, medians over the runs of each run's p50 and p99 of
the age at the last byte, its p50 over tjbench's encode + decode, and CPU ms per frame.

With --link RATE (50mbit) the sender runs in one end of tools/linkemu (tests/e2e/linkns.py,
namespaces fc-le-hparts-...), the viewer in the other, the link RATE one way and --delay each way;
the age is then set against the serial sum a frame sent whole would take: tjbench's encode, its
bytes at RATE, tjbench's decode.

Usage: bench/parts_send.py [--build DIR] [--runs N] [--seconds S] [--sizes 1280x720,1920x1080]
                      [--link 50mbit [--delay 1ms]]
Needs djpeg and tjbench (apt-get install libjpeg-turbo-progs). It times things, so it is not
part of tools/check; run it on a quiet machine and say the load."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The test's viewer first, with bench/ off the path: bench/http.py would stand in for the
# standard library's http, which the test's imports need.
_saved = sys.path[:]
sys.path = [os.path.join(HERE, "..", "tests", "e2e")] + [
    p for p in sys.path if os.path.abspath(p or ".") != HERE]
import test_parts  # noqa: E402

sys.path = [HERE] + _saved + [os.path.join(HERE, "..", "tests", "e2e")]
import benchlib  # noqa: E402
import peers  # noqa: E402


def stream(v, seconds, on_first=None):
    """Reads v's stream for seconds: the age at the last byte in (ms) and the size of each frame
    after the first (on_first() is called at the first: the start-up is no frame's)."""
    ages, sizes = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        m = v.peer.recv(max(0.0, end - time.monotonic()))
        if m is None:
            break
        n = len(v.frames)
        if not v.take(m):
            break
        if len(v.frames) > n:
            f = v.frames[-1]
            if n == 0 and on_first:
                on_first()
            elif n > 0:
                ages.append((time.monotonic_ns() - (f["send_ns"] - f["age"])) / 1e6)
                sizes.append(len(f["jpeg"]))
    if v.errors:
        raise RuntimeError(f"the order rules broke: {v.errors[:3]}")
    return ages, sizes


def sender_args(build, host, port, size, parts):
    return [os.path.join(build, "freshcam-send"), "--listen", f"{host}:{port}", "--size", size,
            "--fps", "30", "--quiet", "--parts", "on" if parts else "off"]


def one_run(build, size, parts, seconds):
    """(ages in ms at the last byte, CPU ms per frame, the first frame's JPEG, sizes)."""
    port = benchlib.free_port()
    send = subprocess.Popen(sender_args(build, "127.0.0.1", port, size, parts),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        benchlib.wait_listening(port)
        v = test_parts.PartsViewer(port)
        cpu0 = []
        ages, sizes = stream(v, seconds, lambda: cpu0.append(benchlib.cpu_seconds(send.pid)))
        cpu = benchlib.cpu_seconds(send.pid) - (cpu0[0] if cpu0 else 0)
        v.close()
        return ages, 1000 * cpu / max(len(ages), 1), v.frames[0]["jpeg"], sizes
    finally:
        benchlib.stop([send])


def link_run(a, link, size, parts):
    """As one_run, over the link: the sender in its end a, this script's viewer mode in b."""
    port = benchlib.free_port()
    link.popen("a", sender_args(a.build, link.addr("a"), port, size, parts), "send")
    link.wait_listening("a", port)
    got = link.run_json("b", [sys.executable, os.path.abspath(__file__), "--viewer",
                              link.addr("a"), str(port), str(a.seconds)], timeout=a.seconds + 30)
    for p in link.procs:
        p.kill()
    link.procs.clear()
    return got["ages"], got["sizes"], bytes.fromhex(got["first"])


def viewer_mode(host, port, seconds):
    """--viewer: one stream read from host:port, printed as JSON (run inside a namespace)."""
    v = test_parts.PartsViewer(int(port), host=host)
    ages, sizes = stream(v, float(seconds))
    v.close()
    print(json.dumps({"ages": ages, "sizes": sizes, "first": v.frames[0]["jpeg"].hex()}))


def limit(jpeg, size, tmp):
    """tjbench's (encode, decode) of this frame, ms."""
    ppm = os.path.join(tmp, f"{size}.ppm")
    with open(ppm, "wb") as f:
        f.write(subprocess.run(["djpeg", "-pnm"], input=jpeg, stdout=subprocess.PIPE,
                               check=True, timeout=30).stdout)
    tj = peers.tjbench(ppm, size, 1)
    return tj["enc_ms"], tj["dec_ms"]


def loopback_rows(a, tmp):
    rows = []
    for size in a.sizes.split(","):
        got = {True: [], False: []}
        tj = []
        for _ in range(a.runs):
            for parts in (True, False):
                ages, cpu, jpeg, _ = one_run(a.build, size, parts, a.seconds)
                ages.sort()
                got[parts].append((benchlib.quantile(ages, 0.5), benchlib.quantile(ages, 0.99),
                                   cpu))
                if parts:
                    tj.append(sum(limit(jpeg, size, tmp)))
        lim = statistics.median(tj)
        for parts in (True, False):
            p50 = statistics.median(r[0] for r in got[parts])
            p99 = statistics.median(r[1] for r in got[parts])
            cpu = statistics.median(r[2] for r in got[parts])
            rows.append(f"| {size} | {'on' if parts else 'off'} | {p50:.2f} | {p99:.2f} | "
                        f"{lim:.2f} | {p50 / lim:.2f} | {p99 / lim:.2f} | {cpu:.2f} |")
    return ("| size | --parts | age at last byte p50 ms | p99 ms | tjbench enc+dec ms | "
            "p50 / tjbench | p99 / tjbench | sender CPU ms/frame |\n|---|---|---|---|---|---|---|---|\n"
            + "\n".join(rows))


def link_rows(a, tmp):
    """The same over tools/linkemu at --link (a rate), both ways --delay: against the serial sum
    of tjbench's encode, the frame's bytes at the rate, and tjbench's decode."""
    import linkns

    linkns.PREFIX = "fc-le-hparts"  # this branch's namespaces, apart from others'
    emu = os.path.join(a.build, "tools", "linkemu", "linkemu")
    why = linkns.unavailable(emu)
    if why:
        raise SystemExit(f"bench/parts_send.py --link: {why}")
    rate = float(a.link.rstrip("mbit")) * 1e6
    rows = []
    for size in a.sizes.split(","):
        got = {True: [], False: []}
        serial = []
        for _ in range(a.runs):
            for parts in (True, False):
                with linkns.Link(emu, a2b=f"rate={a.link} delay={a.delay}",
                                 b2a=f"delay={a.delay}") as link:
                    ages, sizes, jpeg = link_run(a, link, size, parts)
                ages.sort()
                got[parts].append((benchlib.quantile(ages, 0.5), benchlib.quantile(ages, 0.99)))
                enc, dec = limit(jpeg, size, tmp)
                serial.append(enc + statistics.mean(sizes) * 8 / rate * 1000 + dec)
        ser = statistics.median(serial)
        for parts in (True, False):
            p50 = statistics.median(r[0] for r in got[parts])
            p99 = statistics.median(r[1] for r in got[parts])
            rows.append(f"| {size} | {a.link}, {a.delay} | {'on' if parts else 'off'} | "
                        f"{p50:.2f} | {p99:.2f} | {ser:.2f} | {p50 / ser:.2f} |")
    return ("| size | link | --parts | age at last byte p50 ms | p99 ms | serial enc + transfer + "
            "dec ms | p50 / serial |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--viewer":
        viewer_mode(*sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build", "gcc"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--link", help="a rate (50mbit): over tools/linkemu instead of loopback")
    ap.add_argument("--delay", default="1ms", help="with --link: each way")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = link_rows(a, tmp) if a.link else loopback_rows(a, tmp)
    print(f"{benchlib.machine()}; load {os.getloadavg()[0]:.2f}; {a.runs} runs of "
          f"{a.seconds:.0f} s each way, interleaved\n")
    print(table)


if __name__ == "__main__":
    main()
