#!/usr/bin/env python3
"""bench/http.py: what --http costs and how much age its event loop adds. Streams the test pattern
(640x480 at 30 fps by default) to 0, 1, 10 and 100 /stream clients on loopback and reports, per
run:

  - the sender's CPU (% of one core, from /proc/PID/stat) and resident memory (VmRSS), and what
    each client adds to both over the run without HTTP clients;
  - the parts each client got per second (the sender's --stats-json);
  - the age /stream adds: capture to the part's last byte written by the event loop (the
    sender's own figure, http.age_ms_*), and capture to the part's last byte read by a client
    (its X-Timestamp against this host's wall clock);
  - beside it, in every run, the protocol path: a headless freshcam-view on the same sender, its
    age bound and estimated age (capture to the whole frame received) over the same seconds, and
    the ratio of the /stream client's age to the viewer's (same frames, same seconds, same load).

Each row is the median over --runs rounds; the rounds go through every client count in turn, so
a slow spell of a shared machine lands in one round of each count, not in all rounds of one.

Usage: bench/http.py [--build DIR] [--runs N] [--seconds N] [--size WxH] [--clients 0,1,10,100]
                     [--update-doc docs/BENCHMARKS.md]
Prints a Markdown table for docs/BENCHMARKS.md (and with --update-doc writes it into the file's
bench/http section). It times things, so it is not part of tools/check; run it on a quiet
machine."""
import argparse
import json
import os
import platform
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_seconds, free_port, machine, median, wait_listening  # noqa: E402

MARK_BEGIN = "<!-- bench/http: begin -->"
MARK_END = "<!-- bench/http: end -->"


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stream_socket(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /stream HTTP/1.1\r\nHost: bench\r\n\r\n")
    return s


def timed_reader(sock, ages, stop):
    """Reads parts and records, for each, the wall-clock time from its capture (X-Timestamp) to
    its last byte read here."""
    buf = b""
    sock.settimeout(2)
    while not stop.is_set():
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not chunk:
            return
        buf += chunk
        while True:
            start = buf.find(b"--freshcamframe\r\n")
            end = buf.find(b"\r\n\r\n", start)
            if start < 0 or end < 0:
                break
            head = buf[start:end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            stamp = float(head.split("x-timestamp:")[1].split("\r\n")[0])
            if len(buf) < end + 4 + length:
                break
            ages.append(1000 * (time.time() - stamp))
            buf = buf[end + 4 + length:]


def drain(socks, stop):
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            try:
                key.fileobj.recv(1 << 20)
            except BlockingIOError:
                pass


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def one_run(a, n, tmp, rnd):
    port, vport = free_port(), free_port()
    js = os.path.join(tmp, f"send-{n}-{rnd}.jsonl")
    send = subprocess.Popen([os.path.join(a.build, "freshcam-send"), "--size", a.size,
                             "--listen", f"127.0.0.1:{vport}", "--http", str(port),
                             "--stats-json", js, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    vjs = os.path.join(tmp, f"view-{n}-{rnd}.jsonl")
    view = subprocess.Popen([os.path.join(a.build, "freshcam-view"), "--headless",
                             f"127.0.0.1:{vport}", "--stats-json", vjs,
                             "--seconds", str(a.seconds + 3)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socks = [stream_socket(port) for _ in range(n)]
    stop = threading.Event()
    ages = []
    threads = []
    if socks:
        threads.append(threading.Thread(target=timed_reader, args=(socks[0], ages, stop)))
        threads.append(threading.Thread(target=drain, args=(socks[1:], stop)))
    for t in threads:
        t.start()
    time.sleep(2)
    ages.clear()
    cpu0, t0 = cpu_seconds(send.pid), time.monotonic()
    time.sleep(a.seconds)
    cpu = (cpu_seconds(send.pid) - cpu0) / (time.monotonic() - t0)
    rss = rss_mib(send.pid)
    stop.set()
    for t in threads:
        t.join()
    for s in socks:
        s.close()
    view.wait()
    send.terminate()
    send.wait()
    lines = [json.loads(l) for l in open(js) if l.strip()]
    body = [l for l in lines if not l["summary"]][2:]
    http = [l["http"] for l in body]
    v = [json.loads(l) for l in open(vjs) if l.strip()]
    vb = [l for l in v if not l["summary"]][2:]
    r = {"clients": n, "cpu_pct": 100 * cpu, "rss_mib": rss,
         "publish_p50": statistics.median(l["publish_ms_p50"] for l in body),
         "fps_per_client": statistics.median(h["parts_fps"] for h in http) / n if n else 0,
         "loop_p50": statistics.median(h["age_ms_p50"] for h in http) if n else float("nan"),
         "loop_p99": max(h["age_ms_p99"] for h in http) if n else float("nan"),
         "read_p50": pct(ages, 0.5), "read_p99": pct(ages, 0.99),
         "view_bound_p50": statistics.median(l["age_bound_ms_p50"] for l in vb),
         "view_est_p50": statistics.median(l["est_age_ms_p50"] for l in vb)}
    r["read_ratio"] = r["read_p50"] / r["view_est_p50"]
    return r


def table(a, rows):
    """The Markdown for BENCHMARKS.md: one row per client count, each figure the median over the
    rounds."""
    base = next((r for r in rows if r["clients"] == 0), None)
    out = [f"Machine: {machine()}; the test pattern at {a.size}, 30 fps; medians of {a.runs} "
           f"rounds, {a.seconds:g} s per run after 2 s of warm-up, a headless freshcam-view on "
           f"the same sender in every run.", "",
           "| /stream clients | parts/s each | sender CPU | per client | sender RSS | per client "
           "| capture to publish p50 | capture to last byte written p50 / p99 "
           "| capture to last byte read p50 / p99 | freshcam-view est. age p50 (bound p50) "
           "| read ÷ freshcam-view |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = r["clients"]
        dc = (r["cpu_pct"] - base["cpu_pct"]) / n if base and n else float("nan")
        dm = 1024 * (r["rss_mib"] - base["rss_mib"]) / n if base and n else float("nan")
        out.append(f"| {n} | {r['fps_per_client']:.1f} | {r['cpu_pct']:.1f}% | "
                   f"{dc:+.2f}% | {r['rss_mib']:.1f} MiB | {dm:+.0f} KiB | "
                   f"{r['publish_p50']:.2f} ms | {r['loop_p50']:.2f} / {r['loop_p99']:.2f} ms | "
                   f"{r['read_p50']:.2f} / {r['read_p99']:.2f} ms | "
                   f"{r['view_est_p50']:.2f} ms ({r['view_bound_p50']:.2f} ms) | "
                   f"{r['read_ratio']:.2f}x |")
    # A figure that a run without clients does not have is a dash, not "nan".
    text = "\n".join(out)
    for none in ("+nan%", "+nan KiB", "nan / nan ms", "nanx"):
        text = text.replace(none, "-")
    return text


def update_doc(path, text):
    doc = open(path).read()
    section = re.compile(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), re.S)
    if not section.search(doc):
        raise SystemExit(f"{path} has no {MARK_BEGIN} ... {MARK_END} section to update")
    with open(path, "w") as f:
        f.write(section.sub(lambda m: f"{MARK_BEGIN}\n{text}\n{MARK_END}", doc, count=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--clients", default="0,1,10,100")
    ap.add_argument("--update-doc", help="replace the bench/http section of this Markdown file")
    a = ap.parse_args()
    counts = [int(x) for x in a.clients.split(",")]
    runs = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(a.runs):
            for n in counts:
                r = one_run(a, n, tmp, rnd)
                print(r, file=sys.stderr)
                runs[n].append(r)
    rows = [{k: median([r[k] for r in runs[n]]) for k in runs[n][0]} for n in counts]
    text = table(a, rows)
    print(text)
    if a.update_doc:
        update_doc(a.update_doc, text)


if __name__ == "__main__":
    main()
