#!/usr/bin/env python3
"""bench/udpfec.py: what forward error correction does for the UDP transport on a lossy link
(docs/UDP.md, "Forward error correction"). One link through tools/linkemu (tests/e2e/linkns.py):
100 Mbit/s, 40 ms round trip, the same loss each way; 1280x720 at 30 fps of a photograph with
sensor noise (bench/links.py's sender and viewer), for each loss: TCP, UDP with --fec off, UDP
with --fec auto and UDP with a fixed parity count. Prints shown fps, frames rebuilt and given up,
and the age bound p50/p99 for each, one JSON line per run and a table at the end. Runs are
interleaved by loss so that the machine's load falls alike on the ways compared.

Usage: bench/udpfec.py --build DIR [--seconds S] [--losses 0,1,3,5] [--bursty]
Standard library only; needs root (namespaces, named fc-f17-...). It times things: never part
of tools/check."""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import links  # noqa: E402 (bench/links.py: the sender's and viewer's arguments, the figures)
import linkns  # noqa: E402

linkns.PREFIX = "fc-f17"
# The parity count fec.c chooses for 99% of 84-chunk frames whole at each independent loss.
FIXED = {0: 4, 1: 4, 3: 7, 5: 10}


def udp_stats(lines):
    """The viewer's last udp figures (report_udp.c), from its --stats-json lines."""
    for line in reversed(lines):
        for st in line.get("streams", [line]):
            if isinstance(st, dict) and "udp" in st:
                return st["udp"]
    return {}


def run(a, link, name, sender_extra, viewer_extra, tmp):
    port = 7373
    sj = os.path.join(tmp, f"{name}-send.jsonl")
    vj = os.path.join(tmp, f"{name}-view.jsonl")
    s = link.popen("a", links.sender_args(a.build, port, sj, sender_extra), f"{name}-send")
    link.wait_listening("a", port)
    v = link.popen("b", links.viewer_args(a.build, link.addr("a"), port, a.seconds, vj,
                                          viewer_extra), f"{name}-view")
    v.wait(a.seconds + 20)
    s.stop()
    lines = links.read_jsonl(vj)
    sm = links.summary(lines)
    if not sm:
        raise RuntimeError(f"{name}: the viewer wrote no summary:\n{v.output()}")
    fig = links.viewer_figures(sm, 100)
    udp = udp_stats(lines)
    fig["rebuilt"] = udp.get("frames_rebuilt", 0)
    fig["given_up"] = udp.get("given_up_late", 0) + udp.get("given_up_evicted", 0)
    fig["whole"] = udp.get("frames_whole", 0)
    fig["parity_per_frame"] = udp.get("parity_chunks", 0) / max(1, fig["whole"] + fig["given_up"])
    return fig


def ways(loss):
    udp = (("--transport", "udp"), ("--transport", "udp"))
    out = [("tcp", (), ())]
    out.append(("udp-fec-off", udp[0] + ("--fec", "off"), udp[1]))
    out.append(("udp-fec-auto", udp[0] + ("--fec", "auto"), udp[1]))
    if loss in FIXED:
        out.append((f"udp-fec-{FIXED[loss]}", udp[0] + ("--fec", str(FIXED[loss])), udp[1]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--losses", default="0,1,3,5")
    ap.add_argument("--bursty", action="store_true", help="also ge=1%%,33%% (3%% in bursts of 3)")
    a = ap.parse_args()
    why = linkns.unavailable(links.linkemu_path(a.build))
    if why:
        print(f"skipped: {why}")
        return 77
    profiles = [(f"{l}%", int(l), f"loss={l}%") for l in a.losses.split(",")]
    if a.bursty:
        profiles.append(("ge 3% bursts of 3", None, "ge=1%,33%"))
    results = []
    with open("/proc/loadavg") as f:
        print(f"load before: {f.read().split()[:3]}", file=sys.stderr)
    for label, loss, spec in profiles:
        spec = "" if loss == 0 else spec
        with tempfile.TemporaryDirectory() as tmp, \
                linkns.Link(links.linkemu_path(a.build), a2b=f"rate=100mbit delay=20ms {spec}",
                            b2a=f"delay=20ms {spec}", logdir=tmp) as link:
            for way, sx, vx in ways(loss if loss is not None else 3):
                fig = run(a, link, f"{way}", sx, vx, tmp)
                with open("/proc/loadavg") as f:
                    fig["load"] = float(f.read().split()[0])
                fig.update(link=label, way=way)
                results.append(fig)
                print(json.dumps({k: fig[k] for k in ("link", "way", "shown_fps", "rebuilt",
                                                      "given_up", "parity_per_frame", "bound_p50", "bound_p99",
                                                      "over_budget", "load")}), flush=True)
    print("| link | way | shown fps | rebuilt | given up | parity a frame | bound p50/p99 ms "
          "| over budget | load |")
    print("|------|-----|----------:|--------:|---------:|---------------:|-----------------:"
          "|------------:|-----:|")
    for r in results:
        print(f"| {r['link']} | {r['way']} | {r['shown_fps']:.1f} | {r['rebuilt']} | "
              f"{r['given_up']} | {r['parity_per_frame']:.1f} | "
              f"{r['bound_p50']:.0f}/{r['bound_p99']:.0f} | "
              f"{r['over_budget']} | {r['load']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
