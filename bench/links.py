#!/usr/bin/env python3
"""bench/links.py: freshcam on real links, against the peers on the same links, in one run.

Each link is two network namespaces joined by tools/linkemu (tests/e2e/linkns.py): a real round
trip, a real bottleneck with a bounded queue (50 ms, a modest home router), real packet loss,
for the kernel's own TCP. The camera's side is end "a", the viewer's end "b"; frames travel a->b.
The content is 1280x720 at 30 fps of camera-like pictures: freshcam-send --photo (a photograph
with sensor noise, and the stamp that gives each shown frame's true age: both namespaces share
this host's clock). For each link the script reports:

  - freshcam: shown fps, rejected (% of frames received), the age bound p50/p99 and the true age
    (from the stamp) p50/p99, frames shown over the budget (the promise says 0), the mix of
    renditions the viewer got and its KB per frame, and how much of the link the frames used;
  - the same link for GStreamer's tcp pipeline, ffmpeg and uStreamer's /stream read by ffmpeg
    (bench/linkpeers.py): shown fps and true age, side by side.

And two runs that are not one viewer on one link:
  - a step: 50 Mbit/s, then 5 Mbit/s, then 50 again (20 ms round trip): frames shown in the
    second after the step down, and how long until the full picture comes back after the step up;
  - two viewers on two links from one sender (100 Mbit/s and 5 Mbit/s): the first keeps the full
    picture and its age, the second gets what its link carries; and the sender's CPU per captured
    picture with four viewers on four links (100, 20, 10, 5 Mbit/s) against one.

Medians over --runs rounds, each round running every program once per link, interleaved.
Usage: bench/links.py --build DIR [--runs N] [--seconds S] [--only NAMES] [--no-peers]
                      [--out FILE] [--update-doc docs/BENCHMARKS.md]
bench/links (the shell script) installs what is needed and builds first. Standard library only;
needs root (namespaces). It times things: never part of tools/check."""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import benchlib as bl  # noqa: E402
import linkns  # noqa: E402

SIZE = "1280x720"
FPS = 30
BUDGET_MS = 80
PHOTO = "/usr/share/backgrounds/mate/nature/Dune.jpg"
MARK_BEGIN = "<!-- bench/links: begin -->"
MARK_END = "<!-- bench/links: end -->"

# name: (rate in Mbit/s for the link use, a2b spec, b2a spec, what it is)
LINKS = {
    "100M": (100, "rate=100mbit", "", "100 Mbit/s, no added delay"),
    "20M": (20, "rate=20mbit delay=10ms", "delay=10ms", "20 Mbit/s, 20 ms round trip"),
    "10M": (10, "rate=10mbit delay=10ms", "delay=10ms", "10 Mbit/s, 20 ms round trip"),
    "5M": (5, "rate=5mbit delay=10ms", "delay=10ms", "5 Mbit/s, 20 ms round trip"),
    "2M": (2, "rate=2mbit delay=10ms", "delay=10ms", "2 Mbit/s, 20 ms round trip"),
    "loss1": (100, "rate=100mbit delay=20ms loss=1%", "delay=20ms loss=1%",
              "100 Mbit/s, 40 ms round trip, 1% random loss each way"),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def linkemu_path(build):
    return os.path.join(build, "tools", "linkemu", "linkemu")


def sender_args(build, port, sjson, extra=()):
    return [os.path.join(build, "freshcam-send"), "--listen", str(port), "--size", SIZE,
            "--fps", str(FPS), "--photo", PHOTO, "--quiet", "--insecure", "--stats-json", sjson,
            *extra]


def viewer_args(build, addr, port, seconds, vjson, extra=()):
    return [os.path.join(build, "freshcam-view"), "--headless", "--quiet", f"{addr}:{port}",
            "--seconds", f"{seconds:g}", "--check-stamps", "--stats-json", vjson, *extra]


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def summary(lines):
    return next((l for l in reversed(lines) if l.get("summary")), None)


def viewer_figures(sm, rate_mbit):
    """What the table shows of one viewer's summary line."""
    received = sm.get("received", 0)
    mix = sm.get("renditions") or []
    total = sum(r.get("frames", 0) for r in mix) or 1
    return {
        "shown_fps": sm.get("shown_fps", 0),
        "rejected_pct": 100.0 * sm.get("rejected", 0) / received if received else 0.0,
        "bound_p50": sm.get("age_bound_ms_p50", float("nan")),
        "bound_p99": sm.get("age_bound_ms_p99", float("nan")),
        "true_p50": sm.get("true_age_ms_p50", float("nan")),
        "true_p99": sm.get("true_age_ms_p99", float("nan")),
        "over_budget": sm.get("stamp_over_budget", 0),
        "shown": sm.get("shown", 0),
        "unstamped": sm.get("unstamped", 0),
        "kb_per_frame": sm.get("kb_per_frame", float("nan")),
        "link_use_pct": 100.0 * sm.get("bytes_per_s", 0) * 8 / (rate_mbit * 1e6),
        "mix": [{"size": f"{r['width']}x{r['height']}", "quality": r.get("quality", 0),
                 "share": r.get("frames", 0) / total} for r in mix],
    }


def run_freshcam(a, link, name, rate, seconds, tmp, viewer_extra=()):
    """One sender in end a, one viewer in end b, for `seconds` (plus a second to connect)."""
    port = 7373
    sj = os.path.join(tmp, f"{name}-send.jsonl")
    vj = os.path.join(tmp, f"{name}-view.jsonl")
    s = link.popen("a", sender_args(a.build, port, sj), f"{name}-send")
    link.wait_listening("a", port)
    v = link.popen("b", viewer_args(a.build, link.addr("a"), port, seconds, vj, viewer_extra),
                   f"{name}-view")
    v.wait(seconds + 20)
    s.stop()
    sm = summary(read_jsonl(vj))
    if not sm:
        raise RuntimeError(f"{name}: the viewer wrote no summary:\n{v.output()}")
    return viewer_figures(sm, rate)


def run_peer(a, link, peer, seconds, tmp):
    import linkpeers  # noqa: E402 (bench/linkpeers.py)

    return linkpeers.run_peer(peer, link, a.build, size=SIZE, fps=FPS, seconds=seconds, tmp=tmp)


def one_link(a, name, tmp):
    """Every program once on link `name`: freshcam (adapting), freshcam --adapt off, the peers."""
    rate, a2b, b2a, _ = LINKS[name]
    out = {}
    with linkns.Link(linkemu_path(a.build), a2b=a2b, b2a=b2a, logdir=tmp) as link:
        out["freshcam"] = run_freshcam(a, link, f"{name}-fc", rate, a.seconds, tmp)
        out["freshcam-off"] = run_freshcam(a, link, f"{name}-off", rate, a.seconds, tmp,
                                           ("--adapt", "off"))
        for peer in () if a.no_peers else ("gstreamer", "ffmpeg", "ustreamer"):
            try:
                out[peer] = run_peer(a, link, peer, a.seconds, tmp)
            except Exception as e:  # a peer that fails is reported, not fatal
                log(f"  {peer} on {name}: {e}")
                out[peer] = {"error": str(e)}
    return out


def step(a, tmp):
    """50 -> 5 -> 50 Mbit/s (20 ms round trip): the viewer's per-second figures around each
    step. The steps are made through linkemu's control socket at times measured from the
    viewer's start, which its JSON lines count from."""
    down_at, up_at, total = 5.0, 12.0, 20.0
    with linkns.Link(linkemu_path(a.build), a2b="rate=50mbit delay=10ms", b2a="delay=10ms",
                     logdir=tmp) as link:
        sj = os.path.join(tmp, "step-send.jsonl")
        vj = os.path.join(tmp, "step-view.jsonl")
        s = link.popen("a", sender_args(a.build, 7373, sj), "step-send")
        link.wait_listening("a", 7373)
        v = link.popen("b", viewer_args(a.build, link.addr("a"), 7373, total, vj), "step-view")
        t0 = time.monotonic()
        time.sleep(down_at)
        link.set("a2b", "rate=5mbit")
        down = time.monotonic() - t0
        time.sleep(up_at - down)
        link.set("a2b", "rate=50mbit")
        up = time.monotonic() - t0
        v.wait(total + 20)
        s.stop()
    lines = [l for l in read_jsonl(vj) if not l.get("summary")]
    # Shown in the second right after the step down, and the next one.
    def shown_between(t1, t2):
        before = max((l for l in lines if l["t"] <= t1 + 0.05), key=lambda l: l["t"],
                     default=None)
        after = max((l for l in lines if l["t"] <= t2 + 0.05), key=lambda l: l["t"],
                    default=None)
        if not before or not after or after["t"] <= before["t"]:
            return float("nan")
        return (after["shown"] - before["shown"]) / (after["t"] - before["t"])
    back = next((l["t"] - up for l in lines if l["t"] > up and l.get("width") == 1280
                 and l.get("quality") == 80), float("nan"))
    sm = summary(read_jsonl(vj)) or {}
    return {"fps_first_second_after_down": shown_between(down, down + 1),
            "fps_second_second_after_down": shown_between(down + 1, down + 2),
            "full_again_after_up_s": back,
            "over_budget": sm.get("stamp_over_budget", 0),
        "shown": sm.get("shown", 0),
            "shown_fps": sm.get("shown_fps", 0),
            "widths": [l.get("width", 0) for l in lines]}


def many(a, rates, tmp):
    """One sender, a viewer on a link of its own at each rate (Mbit/s, 20 ms round trip except
    at 100): each viewer's figures, and the sender's CPU seconds per captured picture."""
    links = []
    try:
        for i, r in enumerate(rates):
            spec = f"rate={r}mbit" + ("" if r >= 100 else " delay=10ms")
            link = linkns.Link(linkemu_path(a.build), a2b=spec,
                               b2a="" if r >= 100 else "delay=10ms", logdir=tmp,
                               share_a=links[0] if links else None)
            link.start()
            links.append(link)
        sj = os.path.join(tmp, f"many{len(rates)}-send.jsonl")
        s = links[0].popen("a", sender_args(a.build, 7373, sj), f"many{len(rates)}-send")
        links[0].wait_listening("a", 7373)
        views = []
        for i, link in enumerate(links):
            vj = os.path.join(tmp, f"many{len(rates)}-view{i}.jsonl")
            views.append((link.popen("b", viewer_args(a.build, link.addr("a"), 7373,
                                                        a.seconds + 3, vj), f"many-view{i}"),
                          vj))
        time.sleep(2.5)  # past the climb to each link's rung
        c0, t0 = bl.cpu_seconds(s.p.pid), time.monotonic()
        time.sleep(a.seconds)
        c1, t1 = bl.cpu_seconds(s.p.pid), time.monotonic()
        for v, _ in views:
            v.wait(30)
        s.stop()
        per_picture_ms = 1000 * (c1 - c0) / ((t1 - t0) * FPS)
        out = {"send_cpu_ms_per_picture": per_picture_ms, "viewers": []}
        for (v, vj), r in zip(views, rates):
            sm = summary(read_jsonl(vj)) or {}
            out["viewers"].append({"rate": r, **viewer_figures(sm, r)})
        return out
    finally:
        for link in reversed(links):
            link.close()


def med(values):
    vals = [v for v in values if isinstance(v, (int, float)) and v == v]
    return statistics.median(vals) if vals else float("nan")


def merge_runs(runs):
    """Medians field by field over the rounds; the rendition mix of the median round by fps."""
    ok = [r for r in runs if r and "error" not in r]
    if not ok:
        return runs[-1] if runs else {}
    out = {}
    for k, v in ok[0].items():
        if isinstance(v, (int, float)):
            out[k] = med([r.get(k) for r in ok])
        else:
            out[k] = v
    mid = sorted(ok, key=lambda r: r.get("shown_fps", 0))[len(ok) // 2]
    if "mix" in mid:
        out["mix"] = mid["mix"]
    return out


def fmt(v, d=1):
    return "-" if not isinstance(v, (int, float)) or v != v else f"{v:.{d}f}"


def mix_text(mix):
    parts = [f"{m['size']} q{m['quality']} {100 * m['share']:.0f}%" for m in mix
             if m["share"] >= 0.05]
    return ", ".join(parts) or "-"


def table(results):
    rows = ["| link | program | shown fps | rejected | age bound p50 / p99 ms | true age p50 / "
            "p99 ms | shown over 80 ms | renditions (share of frames) | KB/frame | link used |",
            "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for name, progs in results.items():
        desc = LINKS[name][3]
        for prog, r in progs.items():
            if "error" in r:
                rows.append(f"| {desc} | {prog} | failed: {r['error'][:60]} | | | | | | | |")
                continue
            if prog.startswith("freshcam"):
                rows.append(
                    f"| {desc} | {prog} | {fmt(r['shown_fps'])} | {fmt(r['rejected_pct'])}% | "
                    f"{fmt(r['bound_p50'])} / {fmt(r['bound_p99'])} | {fmt(r['true_p50'])} / "
                    f"{fmt(r['true_p99'])} | {r['over_budget']:.0f} | {mix_text(r['mix'])} | "
                    f"{fmt(r['kb_per_frame'])} | {fmt(r['link_use_pct'], 0)}% |")
            else:
                kb = r.get("bytes_per_frame", float("nan")) / 1000
                use = 100.0 * r.get("bytes_per_s", float("nan")) * 8 / (LINKS[name][0] * 1e6)
                rows.append(
                    f"| {desc} | {prog} | {fmt(r.get('shown_fps'))} | - | - | "
                    f"{fmt(r.get('age_ms_p50'))} / {fmt(r.get('age_ms_p99'))} | "
                    f"{fmt(r.get('over_budget_pct'), 0)}% | full picture | {fmt(kb)} | "
                    f"{fmt(use, 0)}% |")
    return "\n".join(rows)


def targets(results, extra):
    """The issue's targets against this run: (target, measured, met) rows."""
    rows = []

    def fc(name, prog="freshcam"):
        return results.get(name, {}).get(prog, {})

    full = fc("100M")
    off = fc("100M", "freshcam-off")
    if full and off:
        share = next((m["share"] for m in full.get("mix", []) if m["size"] == SIZE
                      and m["quality"] == 80), 0)
        ratio = full["true_p50"] / off["true_p50"] if off.get("true_p50") else float("nan")
        rows.append(("100 Mbit/s: full size and quality, age within 10% of --adapt off",
                     f"{100 * share:.0f}% of frames {SIZE} q80; true age p50 {fmt(full['true_p50'])} "
                     f"vs {fmt(off['true_p50'])} ms ({ratio:.2f}x)", share >= 0.9 and ratio <= 1.1))
    for name, floor in (("20M", 29), ("10M", 28), ("5M", 25), ("2M", 15)):
        r = fc(name)
        if not r:
            continue
        ok = (r["shown_fps"] >= floor and r["rejected_pct"] < 5 and r["over_budget"] == 0
              and r["link_use_pct"] >= 50)
        rows.append((f"{LINKS[name][3]}: >= {floor} fps, < 5% rejected, 0 over budget, >= half "
                     f"the link", f"{fmt(r['shown_fps'])} fps, {fmt(r['rejected_pct'])}% rejected, "
                     f"{r['over_budget']:.0f} over, {fmt(r['link_use_pct'], 0)}% of the link", ok))
    r = fc("loss1")
    if r:
        rows.append(("100 Mbit/s, 40 ms, 1% loss, TCP: >= 15 fps, 0 over budget",
                     f"{fmt(r['shown_fps'])} fps, {r['over_budget']:.0f} over",
                     r["shown_fps"] >= 15 and r["over_budget"] == 0))
    if extra.get("step"):
        down = med([x["fps_first_second_after_down"] for x in extra["step"]])
        back = med([x["full_again_after_up_s"] for x in extra["step"]])
        rows.append(("50 -> 5 Mbit/s: >= 20 fps within 1 s of the step",
                     f"{fmt(down)} fps shown in the first second after it", down >= 20))
        rows.append(("5 -> 50 Mbit/s: full size and quality again within 5 s",
                     f"after {fmt(back)} s", back <= 5))
    if extra.get("two"):
        v = [x["viewers"] for x in extra["two"]]
        fat = med([x[0]["true_p50"] for x in v])
        thin = med([x[1]["shown_fps"] for x in v])
        alone = full.get("true_p50", float("nan"))
        rows.append(("Two viewers, 100 and 5 Mbit/s: the first keeps full size and its age; the "
                     "second >= 25 fps", f"first {fmt(fat)} ms p50 (alone {fmt(alone)}); second "
                     f"{fmt(thin)} fps", thin >= 25 and fat <= 1.1 * alone))
    if extra.get("cost"):
        ratio = med([x["four"]["send_cpu_ms_per_picture"] / x["one"]["send_cpu_ms_per_picture"]
                     for x in extra["cost"]])
        one = med([x["one"]["send_cpu_ms_per_picture"] for x in extra["cost"]])
        four = med([x["four"]["send_cpu_ms_per_picture"] for x in extra["cost"]])
        rows.append(("Four viewers on four links cost at most 1.6x one viewer",
                     f"{fmt(four, 2)} vs {fmt(one, 2)} ms of sender CPU per picture: "
                     f"{ratio:.2f}x", ratio <= 1.6))
    out = ["| target | measured | met |", "|---|---|---|"]
    out += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", default="", help="comma-separated: links (100M, 20M ...), step, "
                    "two, cost")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--update-doc")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    why = linkns.unavailable(linkemu_path(a.build))
    if why:
        raise SystemExit(f"bench/links.py: {why}")
    only = set(filter(None, a.only.split(",")))
    names = [n for n in LINKS if not only or n in only]
    tmp = tempfile.mkdtemp(prefix="fc-links-")
    runs = {n: {} for n in names}
    extra = {"step": [], "two": [], "cost": []}
    for rnd in range(a.runs):
        for n in names:
            log(f"round {rnd + 1}/{a.runs}: {LINKS[n][3]}")
            for prog, r in one_link(a, n, tmp).items():
                runs[n].setdefault(prog, []).append(r)
        if not only or "step" in only:
            log(f"round {rnd + 1}/{a.runs}: the step 50 -> 5 -> 50 Mbit/s")
            extra["step"].append(step(a, tmp))
        if not only or "two" in only:
            log(f"round {rnd + 1}/{a.runs}: two viewers, 100 and 5 Mbit/s")
            extra["two"].append(many(a, [100, 5], tmp))
        if not only or "cost" in only:
            log(f"round {rnd + 1}/{a.runs}: the sender's cost, one viewer and four")
            extra["cost"].append({"one": many(a, [100], tmp),
                                  "four": many(a, [100, 20, 10, 5], tmp)})
    results = {n: {p: merge_runs(rs) for p, rs in progs.items()} for n, progs in runs.items()}
    report = {"machine": bl.machine(), "runs": a.runs, "seconds": a.seconds,
              "links": results, "extra": extra}
    text = ("\n```sh\nbench/links\n```\n\n"
            f"Machine: {bl.machine()}; {time.strftime('%Y-%m-%d')}; {SIZE} at {FPS} fps of the "
            f"photograph with noise; {a.runs} rounds of {a.seconds:g} s windows, medians.\n\n"
            + table(results) + "\n\n" + targets(results, extra))
    print(text)
    print(json.dumps({k: v for k, v in extra.items() if v}, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(report, f, indent=1)
    if a.update_doc:
        bl.update_doc(a.update_doc, text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    main()
