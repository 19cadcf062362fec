#!/usr/bin/env python3
"""bench/udp.py: issue 17's measurement, TCP and the UDP transport side by side on lossy links.

One sender in end "a" of a tools/linkemu link (tests/e2e/linkns.py), one viewer in end "b", the
frames crossing a->b: 1280x720 at 30 fps of camera-like pictures (freshcam-send --photo, as
bench/links.py), adapting as usual (the rendition the link allows), 100 Mbit/s, 40 ms round trip
(20 ms each way), and on each link in turn: no loss; 1%, 3% and 5% random loss each way; and a
bursty profile, Gilbert-Elliott ge=0.773%,25% each way (3.0% lost on average, in bursts of 4
packets on average). For each link and transport: shown fps, rejected, the age bound p50/p99, the
true age from the stamp p50/p99, frames shown over the budget (the promise says 0), and the
viewer's UDP counters (frames given up, chunks repaired by a NACK, chunks rebuilt by FEC, when
the build has them). Then the issue's ratios: UDP at 3% over UDP at 0% (target >= 0.9) and UDP at
3% over TCP at 3% (target >= 1.5).

Rounds are interleaved: each round runs every link once with each transport, the transports'
order alternating from round to round; the figures are medians over the rounds. While the build
has no `--transport udp` (freshcam-send --help does not name it), only TCP runs, and the output
says so. The load of the machine (uptime's one-minute average) is taken before and after each
round and printed with the results.

Usage: bench/udp.py --build DIR [--runs N] [--seconds S] [--only LINKS] [--transports tcp,udp]
                    [--out FILE] [--update-doc docs/BENCHMARKS.md]
bench/udp (the shell script) installs what is needed and builds first. Standard library only;
needs root (namespaces). It times things: never part of tools/check."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import benchlib as bl  # noqa: E402
import links  # noqa: E402 (bench/links.py: the sender and viewer on one link, their figures)
import linkns  # noqa: E402

MARK_BEGIN = "<!-- bench/udp: begin -->"
MARK_END = "<!-- bench/udp: end -->"
RATE = 100  # Mbit/s, a->b
ONE_WAY = "delay=20ms"
BURSTY = "ge=0.773%,25%"  # p / (p + r) = 3.0% lost, in bursts of 1 / r = 4 packets on average

# name: (the loss, each way, as linkemu's spec; what it is)
LINKS = {
    "0%": ("", "no loss"),
    "1%": ("loss=1%", "1% random loss each way"),
    "3%": ("loss=3%", "3% random loss each way"),
    "5%": ("loss=5%", "5% random loss each way"),
    "bursty": (BURSTY, "3% bursty loss each way (ge=0.773%,25%: bursts of 4 on average)"),
}
# The viewer's per-stream "udp" object (docs/STATS_JSON.md) for the table's three columns, each
# the sum of the counters named that are present (FEC's name is not settled as this is written);
# every counter the object has is kept in the JSON output.
UDP_FIELDS = {
    "given_up": ("given_up_late", "given_up_evicted"),
    "repaired": ("chunks_repaired",),
    "rebuilt": ("chunks_rebuilt", "fec_rebuilt", "rebuilt"),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def has_udp(build):
    """Whether this build's programs take --transport udp (both must)."""
    for prog in ("freshcam-send", "freshcam-view"):
        p = subprocess.run([os.path.join(build, prog), "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=10)
        if "--transport" not in p.stdout:
            return False
    return True


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def udp_counters(lines):
    """The viewer's UDP counters over the run, from its --stats-json lines: they count per
    connection (a reconnection starts them again), so each is summed over the connections (the
    last value before each fall, and the last one). The table's three, and all of them."""
    total, last = {}, {}
    for line in lines:
        udp = dict(line.get("udp") or {})
        for k, n in (udp.pop("refused", None) or {}).items():
            udp[f"refused_{k}"] = n
        for k, n in udp.items():
            if isinstance(n, int):
                if n < last.get(k, 0):
                    total[k] = total.get(k, 0) + last[k]
                last[k] = n
    raw = {k: total.get(k, 0) + n for k, n in last.items()}
    out = {}
    for field, names in UDP_FIELDS.items():
        vals = [raw[n] for n in names if n in raw]
        out[field] = sum(vals) if vals else float("nan")
    return out, raw


def run_one(a, link, name, transport, tmp):
    """One sender and one viewer over `link` for a.seconds: the viewer's figures."""
    port = 7373
    parts = transport.split("-")
    extra = ("--transport", "udp") if parts[0] == "udp" else ()
    if "full" in parts:
        extra += ("--adapt", "off")  # the full picture whatever the link, as the figures
    send_extra = extra + (("--fec", "off") if "nofec" in parts else ())
    sj = os.path.join(tmp, f"{name}-{transport}-send.jsonl")
    vj = os.path.join(tmp, f"{name}-{transport}-view.jsonl")
    s = link.popen("a", links.sender_args(a.build, port, sj, send_extra), f"{name}-{transport}-send")
    link.wait_listening("a", port)
    v = link.popen("b", links.viewer_args(a.build, link.addr("a"), port, a.seconds, vj, extra),
                   f"{name}-{transport}-view")
    v.wait(a.seconds + 20)
    s.stop()
    lines = links.read_jsonl(vj)
    sm = links.summary(lines)
    if not sm:
        raise RuntimeError(f"{name} {transport}: the viewer wrote no summary:\n{v.output()}")
    out = links.viewer_figures(sm, RATE)
    # A connection the viewer ended and made again: its UDP counters start again too.
    out["reconnections"] = max(0, v.output().count("] connected to ") - 1)
    counters, raw = udp_counters(lines)
    out.update(counters)
    out["udp_raw"] = raw
    return out


def one_link(a, name, transports, tmp):
    loss, _ = LINKS[name]
    spec = f"{ONE_WAY} {loss}".strip()
    out = {}
    with linkns.Link(links.linkemu_path(a.build), a2b=f"rate={RATE}mbit {spec}", b2a=spec,
                     logdir=tmp) as link:
        for t in transports:
            try:
                out[t] = run_one(a, link, name, t, tmp)
            except Exception as e:  # one failed run is reported, the others go on
                log(f"  {t} on {name}: {e}")
                out[t] = {"error": str(e)}
        out["link"] = link.stats()
    return out


def spread(r):
    """ (lowest-highest) of the rounds' shown fps, when there were several."""
    runs = r.get("fps_runs") or []
    return f" ({min(runs):.1f}-{max(runs):.1f})" if len(runs) > 1 else ""


def table(results, transports):
    rows = ["| link | transport | shown fps (rounds' range) | rejected | age bound p50 / p99 ms | true age p50 / "
            "p99 ms | shown over 80 ms | frames given up | chunks repaired | chunks rebuilt | "
            "renditions (share of frames) | KB/frame | reconnections |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    f = links.fmt
    for name, progs in results.items():
        for t in transports:
            r = progs.get(t, {})
            if not r or "error" in r:
                rows.append(f"| {LINKS[name][1]} | {t} | failed: "
                            f"{r.get('error', 'no run')[:60]} | | | | | | | | | | |")
                continue
            udp = t.startswith("udp")
            rows.append(
                f"| {LINKS[name][1]} | {t} | {f(r['shown_fps'])}{spread(r)} | "
                f"{f(r['rejected_pct'])}% | "
                f"{f(r['bound_p50'])} / {f(r['bound_p99'])} | {f(r['true_p50'])} / "
                f"{f(r['true_p99'])} | {r['over_budget']:.0f} | "
                f"{f(r['given_up'], 0) if udp else '-'} | {f(r['repaired'], 0) if udp else '-'} | "
                f"{f(r['rebuilt'], 0) if udp else '-'} | {links.mix_text(r['mix'])} | "
                f"{f(r['kb_per_frame'])} | {f(r.get('reconnections'), 0)} |")
    return "\n".join(rows)


def targets(results):
    """The issue's targets against this run: (target, measured, met) rows."""
    def fps(name, t):
        return results.get(name, {}).get(t, {}).get("shown_fps", float("nan"))

    def short(ratio, want):
        """How far a ratio is from its target, for the table: '' when met or not measured."""
        return f": short by {want - ratio:.2f}" if ratio == ratio and ratio < want else ""

    rows = []
    u0, u3, t3 = fps("0%", "udp"), fps("3%", "udp"), fps("3%", "tcp")
    r0 = u3 / u0 if u0 else float("nan")
    rows.append(("UDP at 3% loss shows at least 90% of what it shows at 0%",
                 f"{links.fmt(u3)} / {links.fmt(u0)} fps = {links.fmt(r0, 2)}",
                 u0 > 0 and r0 >= 0.9, short(r0, 0.9)))
    rt = u3 / t3 if t3 else float("nan")
    rows.append(("UDP at 3% loss shows at least 1.5 times what TCP shows at 3%",
                 f"{links.fmt(u3)} / {links.fmt(t3)} fps = "
                 f"{links.fmt(rt, 2) if t3 else ('inf' if u3 > 0 else '-')}",
                 u3 == u3 and t3 == t3 and u3 >= 1.5 * t3 and u3 > 0, short(rt, 1.5)))
    over = sum(r.get("over_budget", 0) for progs in results.values()
               for t, r in progs.items() if isinstance(r, dict) and "over_budget" in r)
    rows.append(("No frame shown over the budget, on any link, either transport",
                 f"{over:.0f} over", over == 0, ""))
    out = ["| target | measured | met |", "|---|---|---|"]
    out += [f"| {t} | {m} | {'yes' if ok else '**no**' + gap} |" for t, m, ok, gap in rows]
    return "\n".join(out)


def merge(runs):
    """Medians field by field over the rounds (links.merge_runs), the raw UDP objects kept."""
    out = links.merge_runs([{k: v for k, v in r.items() if k != "udp_raw"} for r in runs])
    out["udp_raw"] = [r.get("udp_raw", {}) for r in runs]
    out["fps_runs"] = [r.get("shown_fps") for r in runs if "shown_fps" in r]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", default="", help="comma-separated links: " + ", ".join(LINKS))
    ap.add_argument("--transports", default="tcp,udp",
                    help="comma-separated: tcp, udp; a name ending -full for the full picture "
                    "(--adapt off on both programs), udp-nofec for the sender's --fec off "
                    "(udp-nofec-full both)")
    ap.add_argument("--out")
    ap.add_argument("--update-doc")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    why = linkns.unavailable(links.linkemu_path(a.build))
    if why:
        raise SystemExit(f"bench/udp.py: {why}")
    transports = [t for t in a.transports.split(",") if t]
    note = ""
    if any(t.startswith("udp") for t in transports) and not has_udp(a.build):
        transports = [t for t in transports if not t.startswith("udp")]
        note = ("This build has no `--transport udp` yet (freshcam-send --help does not name "
                "it): TCP only.")
        log(note)
    only = set(filter(None, a.only.split(",")))
    names = [n for n in LINKS if not only or n in only]
    tmp = tempfile.mkdtemp(prefix="fc-udp-")
    runs = {n: {} for n in names}
    loads = []
    for rnd in range(a.runs):
        order = transports if rnd % 2 == 0 else list(reversed(transports))
        before = load()
        for n in names:
            log(f"round {rnd + 1}/{a.runs}: {LINKS[n][1]} ({', '.join(order)})")
            for t, r in one_link(a, n, order, tmp).items():
                runs[n].setdefault(t, []).append(r)
        loads.append((before, load()))
    results = {n: {t: merge(rs) if t != "link" else rs for t, rs in progs.items()}
               for n, progs in runs.items()}
    load_text = ", ".join(f"{b:.2f}-{e:.2f}" for b, e in loads)
    args = (f"{' --runs ' + str(a.runs) if a.runs != 3 else ''}"
            f"{' --seconds ' + format(a.seconds, 'g') if a.seconds != 10 else ''}"
            f"{' --transports ' + a.transports if a.transports != 'tcp,udp' else ''}")
    text = (f"\n```sh\nbench/udp{args}\n```\n\n"
            f"Machine: {bl.machine()}; {time.strftime('%Y-%m-%d')}; load average (1 min) at the "
            f"start and end of each round: {load_text}. 1280x720 at 30 fps of the photograph "
            f"with noise, {RATE} Mbit/s a->b, 40 ms round trip, the loss each way; "
            f"{a.runs} rounds of {a.seconds:g} s, transports interleaved, medians."
            + (f" {note}" if note else "") + "\n\n" + table(results, transports) + "\n\n"
            + (targets(results) if "udp" in transports else
               "The targets (UDP at 3% over UDP at 0% and over TCP at 3%) wait for the UDP "
               "column."))
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"machine": bl.machine(), "runs": a.runs, "seconds": a.seconds,
                       "loads": loads, "results": results, "note": note}, f, indent=1)
    if a.update_doc:
        bl.update_doc(a.update_doc, text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    main()
