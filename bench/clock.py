#!/usr/bin/env python3
"""bench/clock.py: how tight the age bound is, and whether it ever lies, on links and clocks
that make it hard (docs/PROTOCOL.md, "The offset interval").

Everything runs on this host, so the truth is at hand: the test pattern stamps each picture with
its capture time on the sender's clock, the viewer records every accepted frame with its arrival
time V3 and its bound (--record), and this script reads the stamps back (fc-benchframes stamps):
a frame's true age at V3 is V3 - capture, to the microsecond. Where the sender's clock is made
wrong on purpose (tools/clockshim), its stamps are mapped back to true time with the shim's own
formula before the subtraction.

  jitter   1280x720 at 30 fps through tools/lagproxy adding 30 ms each way plus a uniform 0..20 ms
           of jitter, budget 80 ms: the viewer judging by each frame's own round trip
           (--clock request, protocol 3's bound) against the offset interval (--clock proven).
           Shown fps, frames accepted over the budget (must be 0), the bound's excess over the
           true age (p50, p99) against the fastest possible request trip, 30 ms.
  drift    the same relay, the sender's monotonic clock 200 ppm fast and, at the same time on a
           second pair, 200 ppm slow (LD_PRELOAD tools/clockshim), for --drift-seconds (600 by
           default): frames accepted over the budget (must be 0) and how often the interval had
           to restart (0 expected: 200 ppm is inside the 500 ppm allowance).
  synced   --clock synced:1 with no relay: the bound's excess over the true age; then the sender's
           wall clock 30 ms ahead, and 30 ms behind (clockshim): when the viewer says so after
           connecting, and how many frames leaned on the false clock (must be 0). And, for
           scale, --clock synced:1 through the 30 ms relay (no jitter).

Medians over --runs rounds for jitter and synced. Usage:
  bench/clock.py --build DIR [--runs N] [--seconds S] [--drift-seconds S] [--only jitter,drift,synced]
                 [--out FILE] [--update-doc docs/BENCHMARKS.md]
bench/clock (the shell script) installs what is needed and builds first. It times things: never
part of tools/check."""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402

SIZE = "1280x720"
FPS = 30
BUDGET_MS = 80.0
RELAY_MS = 30
JITTER_MS = 20
MARK_BEGIN = "<!-- bench/clock: begin -->"
MARK_END = "<!-- bench/clock: end -->"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Pair:
    """A sender, optionally a lagproxy, and a viewer recording into its own directory."""

    def __init__(self, a, name, tmp, clock, seconds, relay=None, shim=None, window=4):
        self.name = name
        self.dir = os.path.join(tmp, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.rec = os.path.join(self.dir, "rec")
        self.vjson = os.path.join(self.dir, "view.jsonl")
        self.vlog = open(os.path.join(self.dir, "view.log"), "w+")
        self.shim = shim
        port = bl.free_port()
        env = dict(os.environ)
        if shim:
            env["LD_PRELOAD"] = os.path.join(a.build, "tools", "clockshim", "libclockshim.so")
            env.update({k: str(v) for k, v in shim.items()})
        self.procs = [subprocess.Popen(
            [os.path.join(a.build, "freshcam-send"), "--listen", f"127.0.0.1:{port}", "--size", SIZE,
             "--fps", str(FPS), "--quiet", "--insecure"], env=env,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "send.log"), "w"))]
        bl.wait_listening(port)
        if relay:
            lp = bl.free_port()
            self.procs.append(subprocess.Popen(
                [os.path.join(a.build, "tools", "lagproxy", "lagproxy"), "--listen", f"127.0.0.1:{lp}",
                 "--connect", f"127.0.0.1:{port}", "--delay", str(relay[0]), "--jitter",
                 str(relay[1]), "--seed", "1"],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "relay.log"), "w")))
            bl.wait_listening(lp)
            port = lp
        self.viewer = subprocess.Popen(
            [os.path.join(a.build, "freshcam-view"), "--headless", "--quiet",
             f"127.0.0.1:{port}", "--seconds", f"{seconds:g}", "--max-age", f"{BUDGET_MS:g}",
             "--clock", clock, "--window", str(window), "--stats-json", self.vjson,
             "--record", self.rec]
            + ([] if shim else ["--check-stamps"]),
            stdout=subprocess.DEVNULL, stderr=self.vlog)
        self.seconds = seconds

    def finish(self, a):
        try:
            self.viewer.wait(self.seconds + 60)
        finally:
            bl.stop([self.viewer] + self.procs)
        self.vlog.seek(0)
        self.log_text = self.vlog.read()
        lines = [json.loads(l) for l in open(self.vjson) if l.startswith("{")]
        self.summary = next((l for l in reversed(lines) if l.get("summary")), None)
        self.seconds_lines = [l for l in lines if not l.get("summary")]
        if not self.summary:
            raise RuntimeError(f"{self.name}: no summary from the viewer:\n{self.log_text}")
        self.frames = frames_of(a, self.rec, self.shim)
        shutil.rmtree(self.rec, ignore_errors=True)  # the JPEGs: up to 2 GB for a long run
        return self


def frames_of(a, rec, shim):
    """(bound_ms, true_age_ms) of every recorded frame whose stamp reads."""
    # The recorder's wall-clock column is its monotonic V3 plus one offset read at its start;
    # this process's offset is the same to within microseconds (both clocks slew together).
    offset = time.clock_gettime_ns(time.CLOCK_REALTIME) - time.monotonic_ns()
    rows = {}
    with open(os.path.join(rec, "index.csv")) as f:
        for r in csv.DictReader(f):
            rows[os.path.join(rec, r["file"])] = (int(r["recv_unix_ns"]) - offset,
                                                   float(r["age_bound_ms"]))
    out = os.path.join(rec, "stamps.txt")
    subprocess.run([os.path.join(a.build, "bench", "fc-benchframes"), "stamps", "--size", SIZE,
                    "--out", out], input="\n".join(rows) + "\n", text=True, check=True,
                   timeout=3600)
    ppm = float(shim.get("FC_CLOCKSHIM_PPM", 0)) if shim else 0.0
    origin = int(shim.get("FC_CLOCKSHIM_ORIGIN_NS", 0)) if shim else 0
    frames = []
    with open(out) as f:
        for line in f:
            name, cap = line.split()
            cap = int(cap)
            if ppm:
                cap = origin + (cap - origin) / (1 + ppm * 1e-6)
            v3, bound = rows[name]
            frames.append((bound, (v3 - cap) / 1e6))
    return frames


def steady_fps(p, after_s=5.0):
    """Frames shown per second from after_s on (the window has climbed by then), from the
    viewer's per-second lines; None for a run too short to tell."""
    late = [l for l in p.seconds_lines if l["t"] >= after_s]
    if len(late) < 2 or late[-1]["t"] - late[0]["t"] < 1:
        return None
    return (late[-1]["shown"] - late[0]["shown"]) / (late[-1]["t"] - late[0]["t"])


def figures(p):
    sm = p.summary
    fr = p.frames
    excess = sorted(b - t for b, t in fr)
    true = sorted(t for _, t in fr)
    return {
        "shown_fps": sm.get("shown_fps", 0),
        "steady_fps": steady_fps(p),
        "received": sm.get("received", 0),
        "rejected": sm.get("rejected", 0),
        "accepted": sm.get("accepted", 0),
        "stamped": len(fr),
        "over_budget": sum(1 for _, t in fr if t > BUDGET_MS),
        "under_truth": sum(1 for b, t in fr if b < t),
        "shown_over_budget": sm.get("stamp_over_budget"),
        "bound_p50": sm.get("age_bound_ms_p50"),
        "bound_p99": sm.get("age_bound_ms_p99"),
        "request_p50": sm.get("request_bound_ms_p50"),
        "true_p50": bl.quantile(true, 0.5),
        "excess_p50": bl.quantile(excess, 0.5),
        "excess_p99": bl.quantile(excess, 0.99),
        "excess_min": excess[0] if excess else float("nan"),
        "width_p50": sm.get("offset_width_ms_p50"),
        "restarts": sm.get("offset_restarts", 0),
        "synced_frames": sm.get("synced_frames", 0),
        "clock": sm.get("clock"),
    }


def notice_s(p):
    """Seconds from 'connected' to the viewer's refutation warning; None if it never said so."""
    t = {}
    for line in p.log_text.splitlines():
        m = re.search(r"\[\s*([\d.]+)s\]", line)
        if not m:
            continue
        if "connected to" in line and "connected" not in t:
            t["connected"] = float(m.group(1))
        if "--clock synced: the wall clocks do not agree" in line and "said" not in t:
            t["said"] = float(m.group(1))
    if "said" not in t:
        return None
    return t["said"] - t.get("connected", 0.0)


def med(runs, key):
    return bl.median([r[key] for r in runs if r.get(key) is not None])


def total(runs, key):
    return sum(r.get(key) or 0 for r in runs)


def jitter(a, tmp, rnd):
    out = {}
    for window in (2, 4):
        for clock in ("request", "proven"):
            p = Pair(a, f"jitter-{clock}-w{window}-{rnd}", tmp, clock, a.seconds,
                     relay=(RELAY_MS, JITTER_MS), window=window)
            out[f"{clock} {window}"] = figures(p.finish(a))
    return out


def drift(a, tmp):
    origin = time.monotonic_ns()
    pairs = [Pair(a, f"drift{ppm:+d}", tmp, "proven", a.drift_seconds, relay=(RELAY_MS, JITTER_MS),
                  shim={"FC_CLOCKSHIM_PPM": ppm, "FC_CLOCKSHIM_ORIGIN_NS": origin})
             for ppm in (200, -200)]
    return {f"{ppm:+d} ppm": figures(p.finish(a)) for ppm, p in zip((200, -200), pairs)}


def synced(a, tmp, rnd):
    out = {"true": figures(Pair(a, f"synced-{rnd}", tmp, "synced:1", a.seconds).finish(a))}
    for off in (30, -30):
        p = Pair(a, f"synced{off:+d}-{rnd}", tmp, "synced:1", 5,
                 shim={"FC_CLOCKSHIM_REAL_MS": off}).finish(a)
        out[f"{off:+d} ms"] = dict(figures(p), notice_s=notice_s(p))
    p = Pair(a, f"synced-relay-{rnd}", tmp, "synced:1", a.seconds, relay=(RELAY_MS, 0))
    out["relay"] = figures(p.finish(a))
    p = Pair(a, f"proven-relay-{rnd}", tmp, "proven", a.seconds, relay=(RELAY_MS, 0))
    out["relay proven"] = figures(p.finish(a))
    return out


def fmt(v, d=1):
    return "–" if v is None or v != v else f"{v:.{d}f}"


def report(a, res):
    lines = ["\n```sh\nbench/clock\n```\n",
             f"Machine: {bl.machine()}; {time.strftime('%Y-%m-%d')}; {SIZE} at {FPS} fps of the "
             f"test pattern, budget {BUDGET_MS:g} ms; {a.runs} rounds of {a.seconds:g} s, medians "
             "(frame counts: sums). True ages from each recorded frame's stamp at its arrival.\n"]
    if "jitter" in res:
        j = res["jitter"]
        lines += [f"**Through a relay adding {RELAY_MS} ms each way plus 0..{JITTER_MS} ms of "
                  "jitter** (tools/lagproxy):\n",
                  "| judged by | window | shown fps | after 5 s | rejected | accepted over budget | bound p50 | "
                  "true age p50 | excess p50 | excess p99 | offset width p50 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key in sorted(j, key=lambda k: (k.split()[1], k.split()[0] != "request")):
            clock, window = key.split()
            what = {"request": "the request's round trip (`--clock request`)",
                    "proven": "the offset interval (`--clock proven`, the default)"}[clock]
            window += " (default)" if window == "4" else ""
            r = j[key]
            lines.append(f"| {what} | {window} | {fmt(med(r, 'shown_fps'))} | "
                         f"{fmt(med(r, 'steady_fps'))} | {total(r, 'rejected')} of "
                         f"{total(r, 'received')} | {total(r, 'over_budget')} | "
                         f"{fmt(med(r, 'bound_p50'))} ms | {fmt(med(r, 'true_p50'))} ms | "
                         f"{fmt(med(r, 'excess_p50'))} ms | {fmt(med(r, 'excess_p99'))} ms | "
                         f"{fmt(med(r, 'width_p50'))} ms |")
        lines.append("\n(excess: the bound less the true age; the fastest request trip the relay "
                     f"allows is {RELAY_MS} ms, so a bound charged with it alone exceeds the "
                     f"truth by {RELAY_MS} ms.)\n")
    if "drift" in res:
        lines += [f"**Clocks running apart** (the sender's CLOCK_MONOTONIC skewed by "
                  f"tools/clockshim, {a.drift_seconds:g} s, the same relay):\n",
                  "| sender clock | shown fps | frames accepted | accepted over budget | "
                  "bound below truth | bound p50 | excess p99 | interval restarts |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for k, r in res["drift"].items():
            lines.append(f"| {k} | {fmt(r['shown_fps'])} | {r['accepted']} | {r['over_budget']} | "
                         f"{r['under_truth']} | {fmt(r['bound_p50'])} ms | "
                         f"{fmt(r['excess_p99'])} ms | {r['restarts']} |")
        lines.append("")
    if "synced" in res:
        s = res["synced"]
        lines += ["**`--clock synced:1`** (both programs on this host share one wall clock, "
                  "unless clockshim moves the sender's):\n",
                  "| case | shown fps | bound p50 | excess p50 | excess p99 | excess max | "
                  "frames on the wall clocks | said so after |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for k, what in (("true", "same host, true clocks"),
                        ("+30 ms", "sender's wall clock 30 ms ahead"),
                        ("-30 ms", "sender's wall clock 30 ms behind"),
                        ("relay", f"true clocks, through a {RELAY_MS} ms relay (no jitter)"),
                        ("relay proven", f"the same relay, `--clock proven`")):
            r = s[k]
            said = [x.get("notice_s") for x in r]
            said_txt = ("never" if any(x is None for x in said) else
                        f"{max(said):.2f} s (worst)") if k.endswith("ms") else "–"
            lines.append(f"| {what} | {fmt(med(r, 'shown_fps'))} | {fmt(med(r, 'bound_p50'), 2)} ms | "
                         f"{fmt(med(r, 'excess_p50'), 2)} ms | {fmt(med(r, 'excess_p99'), 2)} ms | "
                         f"{fmt(max(x['excess_p99'] for x in r), 2)} ms (worst p99) | "
                         f"{total(r, 'synced_frames')} | {said_txt} |")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--drift-seconds", type=float, default=600)
    ap.add_argument("--only", default="jitter,drift,synced")
    ap.add_argument("--out")
    ap.add_argument("--update-doc")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    only = set(a.only.split(","))
    tmp = tempfile.mkdtemp(prefix="fc-clock-")
    res = {}
    for rnd in range(a.runs):
        if "jitter" in only:
            log(f"round {rnd + 1}/{a.runs}: jitter, request and proven")
            for k, v in jitter(a, tmp, rnd).items():
                res.setdefault("jitter", {}).setdefault(k, []).append(v)
        if "synced" in only:
            log(f"round {rnd + 1}/{a.runs}: synced clocks")
            for k, v in synced(a, tmp, rnd).items():
                res.setdefault("synced", {}).setdefault(k, []).append(v)
    if "drift" in only:
        log(f"drift: 200 ppm fast and slow, {a.drift_seconds:g} s")
        res["drift"] = drift(a, tmp)
    text = report(a, res)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"machine": bl.machine(), "results": res}, f, indent=1)
    if a.update_doc:
        bl.update_doc(a.update_doc, text, MARK_BEGIN, MARK_END)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
