#!/usr/bin/env python3
"""bench/srt.py: SRT's live mode against bare datagrams, and freshcam's own UDP transport where
it is built, on the same emulated links, in one run (docs/UDP.md, "Why own framing before libsrt
or QUIC"; docs/BENCHMARKS.md, "UDP transports: SRT against own framing").

Each link is two network namespaces joined by tools/linkemu (tests/e2e/linkns.py), 100 Mbit/s
with a 50 ms queue, the round trip split evenly between the two ways, and the loss on both ways
(ACKs and NAKs are lost too): random 0, 1, 3 and 5%, and bursty (ge=1%,25%: 3.8% in bursts of
4). The round trips: 40 ms (the issue's) and 10 ms (where a repair fits in an 80 ms budget, so
that the comparison is fair to SRT). On each link, one after the other:

  - udp: fc-benchsrt's bare datagrams (1200 bytes of frame each, no repair: whole or lost): the
    floor any framing without FEC reaches;
  - srt L: fc-benchsrt over SRT's live mode (TSBPD, too-late packet drop) at latency L = 20, 40,
    50, 60, 80 and 120 ms (120: SRT's own advice at a 40 ms round trip, 3 to 4 round trips; 50:
    the least that leaves a repair its round trip at 40 ms);
  - freshcam tcp: freshcam-send --adapt off and freshcam-view --check-stamps (the full picture
    always: the same frames): today's transport, its shown fps and true age from the stamp;
  - freshcam udp: the same with --transport udp, where the build has it (issue 17's wiring),
    with the sender's default --fec auto (parity sized from the loss the viewer reports);
  - freshcam udp-nofec: the same with --fec off, only when named in --programs: own framing's
    NACK repair alone, the like of SRT's retransmission.

fc-benchsrt sends freshcam's own 1280x720 pictures of the photograph (quality 80, about 150 KB)
at 30 fps. The figures: frames whole within the 80 ms budget per second (what freshcam would
show), frames whole per second, and their age (last packet's arrival minus capture) p50/p99.
Medians over --runs rounds, each round every program once per link, the link's loss pattern
seeded by the round.

Usage: bench/srt.py --build DIR [--runs N] [--seconds S] [--only 40,10] [--losses LIST]
                    [--programs LIST] [--out FILE] [--update-doc docs/BENCHMARKS.md]
bench/srt (the shell script) installs libsrt and what else is needed, and builds first. Standard
library only; needs root (namespaces). It times things: never part of tools/check."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import benchlib as bl  # noqa: E402
import linkns  # noqa: E402

linkns.PREFIX = "fc-srt17"  # namespaces of their own: fc-srt17-PID-N-a and -b
FPS = 30
BUDGET_MS = 80
PHOTO = "/usr/share/backgrounds/mate/nature/Dune.jpg"
PORT = 9417
RTTS = (40, 10)
LOSSES = {"0%": "loss=0", "1%": "loss=1%", "3%": "loss=3%", "5%": "loss=5%",
          "bursty 3.8%": "ge=1%,25%"}
LATENCIES = (20, 40, 50, 60, 80, 120)
DEFAULT_PROGRAMS = "freshcam,srt,udp"  # --programs' default, sorted
MARK_BEGIN = "<!-- bench/srt: begin -->"
MARK_END = "<!-- bench/srt: end -->"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def last_json(text, key=None):
    """The last JSON line of a program's output (with `key` in it, if given)."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if key is None or key in d:
                return d
    return None


def has_freshcam_udp(build):
    """Whether this build's freshcam has --transport udp (issue 17's wiring)."""
    try:
        out = subprocess.run([os.path.join(build, "freshcam-view"), "--help"], timeout=10,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--transport" in out


def wait_udp(link, end, port, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, out = link.run(end, ["ss", "-Hlun", f"sport = :{port}"], timeout=5)
        if out.strip():
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing bound UDP port {port} in end {end} after {timeout} s")


def run_bench(a, link, name, transport, latency):
    """fc-benchsrt on the link: the receiver's figures. SRT 1.5.1 cannot connect when the link
    loses the listener's last handshake packet (the caller times out, "CONFUSED ... got:
    keepalive"): that is no part of what is measured, so the pair is started again, at most
    three times, and the tries are counted."""
    for attempt in range(3):
        got = run_pair(a, link, f"{name}-{attempt}", transport, latency)
        if got:
            got["connect_tries"] = attempt + 1
            return got
    raise RuntimeError(f"{name}: no connection in 3 tries")


def run_pair(a, link, name, transport, latency):
    """fc-benchsrt's receiver in end b, its sender in end a: the receiver's JSON line, or None
    when SRT could not connect."""
    prog = os.path.join(a.build, "bench", "fc-benchsrt")
    common = ["--transport", transport, "--latency", str(latency), "--seconds", f"{a.seconds:g}"]
    r = link.popen("b", [prog, "recv", "--port", str(PORT), "--budget", str(BUDGET_MS), *common],
                   f"{name}-recv")
    wait_udp(link, "b", PORT)
    s = link.popen("a", [prog, "send", "--to", f"{link.addr('b')}:{PORT}", "--photo", PHOTO,
                         "--fps", str(FPS), *common], f"{name}-send")
    rc = s.wait(a.seconds + 30)
    r.wait(a.seconds + 30)
    if rc != 0 and "Connection setup failure" in s.output():
        log(f"  {name}: SRT did not connect: {s.output().strip().splitlines()[-1]}")
        return None
    got = last_json(r.output(), "in_budget_fps")
    sent = last_json(s.output(), "kb_per_frame") or {}
    if not got:
        raise RuntimeError(f"{name}: the receiver wrote no result:\n{r.output()}\n{s.output()}")
    got["kb_per_frame"] = sent.get("kb_per_frame", float("nan"))
    got["srt_send"] = sent.get("srt", {})
    got["large_message"] = sent.get("large_message", "")
    return got


def run_freshcam(a, link, name, tmp, transport):
    """freshcam-send in end a, freshcam-view in end b over `transport` (tcp, or udp where it is
    built; udp-nofec: udp with --fec off), the full picture always (--adapt off: the same frames
    as fc-benchsrt's; adapting, freshcam would send smaller renditions on a lossy link,
    bench/links.py): shown fps, true age from the stamps, KB a frame."""
    port = 7373
    udp = ["--transport", "udp"] if transport.startswith("udp") else []
    fec = ["--fec", "off"] if transport == "udp-nofec" else []
    sj, vj = os.path.join(tmp, f"{name}-send.jsonl"), os.path.join(tmp, f"{name}-view.jsonl")
    s = link.popen("a", [os.path.join(a.build, "freshcam-send"), "--listen", str(port), "--size",
                         "1280x720", "--fps", str(FPS), "--photo", PHOTO, "--quiet",
                         "--insecure", "--stats-json", sj, "--adapt", "off", *udp, *fec],
                   f"{name}-send")
    link.wait_listening("a", port)
    v = link.popen("b", [os.path.join(a.build, "freshcam-view"), "--headless", "--quiet",
                         f"{link.addr('a')}:{port}", "--seconds", f"{a.seconds:g}",
                         "--check-stamps", "--stats-json", vj, *udp],
                   f"{name}-view")
    v.wait(a.seconds + 30)
    s.stop()
    with open(vj) as f:
        sm = last_json(f.read(), "summary")
    if not sm:
        raise RuntimeError(f"{name}: the viewer wrote no summary:\n{v.output()}")
    none = float("nan") if not sm.get("shown") else None  # no frame shown: no age
    return {"in_budget_fps": sm.get("shown_fps", 0), "whole_fps": float("nan"),
            "age_ms_p50": none or sm.get("true_age_ms_p50", float("nan")),
            "age_ms_p99": none or sm.get("true_age_ms_p99", float("nan")),
            "bound_ms_p50": none or sm.get("age_bound_ms_p50", float("nan")),
            "bound_ms_p99": none or sm.get("age_bound_ms_p99", float("nan")),
            "over_budget": sm.get("stamp_over_budget", 0),
            "kb_per_frame": sm.get("kb_per_frame", float("nan"))}


def programs(a):
    """(name, transport, SRT latency) of each program measured on every link."""
    progs = [("udp", "udp", 0)] + [(f"srt {lat}", "srt", lat) for lat in LATENCIES]
    progs += [("freshcam tcp", "fc-tcp", 0), ("freshcam udp", "fc-udp", 0),
              ("freshcam udp-nofec", "fc-udp-nofec", 0)]
    named = [p for p in progs if p[0] in a.programs or (
        p[0].split()[0] in a.programs and p[0] != "freshcam udp-nofec")]
    return [p for p in named if not p[0].startswith("freshcam udp") or a.freshcam_udp]


def one_link(a, rtt, loss, seed, tmp):
    """Every program once on one link; {program: figures}."""
    half = f"delay={rtt // 2}ms {LOSSES[loss]}"
    out = {}
    with linkns.Link(os.path.join(a.build, "tools", "linkemu", "linkemu"),
                     a2b=f"rate=100mbit {half}", b2a=half, seed=seed, logdir=tmp) as link:
        for prog, transport, lat in programs(a):
            name = f"{rtt}-{loss.split()[0]}-{prog.replace(' ', '')}-{seed}"
            try:
                if transport.startswith("fc-"):
                    out[prog] = run_freshcam(a, link, name, tmp, transport[3:])
                else:
                    out[prog] = run_bench(a, link, name, transport, lat)
            except (RuntimeError, AssertionError) as e:
                log(f"  {name}: {e}")
                out[prog] = {"error": str(e)}
    return out


def med(values):
    vals = [v for v in values if isinstance(v, (int, float)) and v == v and v >= 0]
    return statistics.median(vals) if vals else float("nan")


def merge(runs):
    """Medians over the rounds, and the range of the headline figure."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1]
    keys = ("in_budget_fps", "whole_fps", "age_ms_p50", "age_ms_p99", "kb_per_frame",
            "bound_ms_p50", "bound_ms_p99")
    out = {k: med([r.get(k) for r in ok]) for k in keys}
    fps = [r.get("in_budget_fps", 0) for r in ok]
    out["in_budget_min"], out["in_budget_max"] = min(fps), max(fps)
    out["runs"] = len(ok)
    out["connect_tries"] = sum(r.get("connect_tries", 1) for r in ok)
    srt = [r.get("srt") for r in ok if r.get("srt")]
    if srt:
        out["srt"] = {k: med([s.get(k) for s in srt]) for k in srt[0]}
    return out


def fmt(v, d=1):
    return "-" if not isinstance(v, (int, float)) or v != v else f"{v:.{d}f}"


def cell_fps(r):
    """Frames whole within the budget per second: the median, and the range over the rounds."""
    if "error" in r:
        return "failed"
    spread = ""
    if r["runs"] > 1 and r["in_budget_max"] - r["in_budget_min"] >= 0.5:
        spread = f" ({fmt(r['in_budget_min'])}-{fmt(r['in_budget_max'])})"
    return f"{fmt(r['in_budget_fps'])}{spread}"


def cell_age(r):
    """Frames whole per second (freshcam: KB a frame), and their age p50 / p99."""
    if "error" in r:
        return "failed"
    if r.get("whole_fps") != r.get("whole_fps"):
        bound = ""
        if r.get("bound_ms_p50") == r.get("bound_ms_p50") and "bound_ms_p50" in r:
            bound = f", bound {fmt(r['bound_ms_p50'], 0)} / {fmt(r['bound_ms_p99'], 0)}"
        return (f"{fmt(r['age_ms_p50'], 0)} / {fmt(r['age_ms_p99'], 0)}{bound} "
                f"({fmt(r['kb_per_frame'], 0)} KB)")
    return f"{fmt(r['whole_fps'])}: {fmt(r['age_ms_p50'], 0)} / {fmt(r['age_ms_p99'], 0)}"


ORDER = (["udp"] + [f"srt {lat}" for lat in LATENCIES]
         + ["freshcam tcp", "freshcam udp", "freshcam udp-nofec"])


def title(p):
    if p == "udp":
        return "bare UDP"
    if p.startswith("srt"):
        return p.replace("srt", "SRT") + " ms"
    return p.replace("tcp", "TCP").replace("udp-nofec", "UDP, no FEC").replace("udp", "UDP")


def table(results, rtt, cell):
    by_loss = results.get(rtt, {})
    progs = [p for p in ORDER if any(p in r for r in by_loss.values())]
    rows = ["| loss | " + " | ".join(title(p) for p in progs) + " |",
            "|---|" + "---:|" * len(progs)]
    for loss in LOSSES:
        r = by_loss.get(loss)
        if r:
            rows.append(f"| {loss} | " + " | ".join(cell(r[p]) if p in r else "-"
                                                    for p in progs) + " |")
    return "\n".join(rows)


def command(meta):
    """The command lines the tables come from (more than one where a run has a supplement)."""
    return meta.get("command") or (f"bench/srt --runs {meta['rounds']} "
                                   f"--seconds {meta['seconds']:g}")


def report_text(meta, results):
    parts = [f"\n```sh\n{command(meta)}\n```\n",
             f"Machine: {meta['machine']}; {meta['date']}; load average {meta['load']}; "
             f"1280x720 at {FPS} fps of the photograph with noise, quality 80 (about 150 KB); "
             f"100 Mbit/s, the loss on both ways; {meta['rounds_text']}, medians."]
    for rtt in results:
        parts.append(f"\n**{rtt} ms round trip: frames whole within {BUDGET_MS} ms, per "
                     "second** (median, and the range over the rounds where it is wider than "
                     "half a frame; freshcam: frames shown)\n\n" + table(results, rtt, cell_fps))
        parts.append(f"\n{rtt} ms round trip: frames whole per second: their age p50 / p99 in "
                     "ms, the last packet's arrival less the capture (freshcam: the true age of "
                     "the frames shown, from the stamp, the age bound its viewer proved for the "
                     "frames it received, shown or rejected, and KB a frame)\n\n"
                     + table(results, rtt, cell_age))
    return "\n".join(parts)


def measure(a):
    """Every program on every link, --runs rounds: (runs, meta)."""
    why = linkns.unavailable(os.path.join(a.build, "tools", "linkemu", "linkemu"))
    if not why and not os.access(os.path.join(a.build, "bench", "fc-benchsrt"), os.X_OK):
        why = "fc-benchsrt is not built (libsrt-openssl-dev missing when configured?)"
    if why:
        raise SystemExit(f"bench/srt.py: {why}")
    a.programs = set(a.programs.split(","))
    a.freshcam_udp = has_freshcam_udp(a.build)
    rtts = [int(x) for x in a.only.split(",") if x] or list(RTTS)
    wanted = [x for x in a.losses.split(",") if x]
    losses = [k for k in LOSSES if not wanted or k.split()[0] in wanted]
    if not losses:
        raise SystemExit(f"bench/srt.py: --losses {a.losses}: none of {', '.join(LOSSES)}")
    tmp = tempfile.mkdtemp(prefix="fc-srt17-")
    runs = {}
    loads = [os.getloadavg()[0]]
    for rnd in range(a.runs):
        for rtt in rtts:
            for loss in losses:
                log(f"round {rnd + 1}/{a.runs}: {rtt} ms round trip, loss {loss} "
                    f"(load {os.getloadavg()[0]:.2f})")
                for prog, r in one_link(a, rtt, loss, rnd + 1, tmp).items():
                    runs.setdefault(str(rtt), {}).setdefault(loss, {}).setdefault(
                        prog, []).append(r)
                loads.append(os.getloadavg()[0])
    meta = {"machine": bl.machine(), "date": time.strftime("%Y-%m-%d"), "rounds": a.runs,
            "seconds": a.seconds, "load": f"{min(loads):.2f} to {max(loads):.2f} (1 min)"}
    meta["rounds_text"] = f"{a.runs} rounds of {a.seconds:g} s"
    meta["command"] = command(meta) + "".join(
        f" --{k} '{v}'" for k, v in (("only", a.only), ("losses", a.losses),
                                     ("programs", ",".join(sorted(a.programs))))
        if v and v != DEFAULT_PROGRAMS)
    return runs, meta


def load_saved(paths):
    """The runs of earlier --out files, programs of later files added to those of earlier ones
    (a table from a run and a supplement to it)."""
    runs, metas = {}, []
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        first = next(iter(next(iter(d["runs"].values())).values()))
        metas.append(d.get("meta") or {  # a file from before the meta: what it says, and guesses
            "machine": d.get("machine", "?"), "load": d.get("load", "?"), "seconds": 0,
            "rounds": len(next(iter(first.values()))), "date": time.strftime("%Y-%m-%d")})
        for rtt, by_loss in d["runs"].items():
            for loss, progs in by_loss.items():
                for prog, rs in progs.items():
                    runs.setdefault(rtt, {}).setdefault(loss, {})[prog] = rs
    meta = dict(metas[0])
    meta["load"] = "; ".join(m["load"] for m in metas)
    meta["command"] = "\n".join(command(m) for m in metas)
    meta["rounds_text"] = "; ".join(dict.fromkeys(
        m.get("rounds_text") or f"{m['rounds']} rounds of {m['seconds']:g} s" for m in metas))
    return runs, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", default="", help="round trips in ms, comma-separated (40,10)")
    ap.add_argument("--losses", default="",
                    help="links by loss, comma-separated: 0%%, 1%%, 3%%, 5%%, bursty (all)")
    ap.add_argument("--programs", default=DEFAULT_PROGRAMS,
                    help="comma-separated: udp, srt, freshcam (tcp and udp), or one of "
                    "'srt 50', 'freshcam tcp', 'freshcam udp', 'freshcam udp-nofec'")
    ap.add_argument("--from", dest="saved", nargs="+", metavar="JSON",
                    help="no measuring: the tables of earlier --out files")
    ap.add_argument("--out")
    ap.add_argument("--update-doc")
    a = ap.parse_args()
    if a.saved:
        runs, meta = load_saved(a.saved)
    elif a.build:
        a.build = os.path.abspath(a.build)
        runs, meta = measure(a)
    else:
        raise SystemExit("bench/srt.py: --build DIR, or --from JSON")
    results = {rtt: {loss: {p: merge(rs) for p, rs in progs.items()}
                     for loss, progs in by_loss.items()} for rtt, by_loss in runs.items()}
    text = report_text(meta, results)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"meta": meta, "runs": runs, "medians": results}, f, indent=1)
    if a.update_doc:
        bl.update_doc(a.update_doc, text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    main()
