#!/usr/bin/env python3
"""bench/browser.py: the age the browser path adds, against freshcam-view's, in one run. One
freshcam-send (the test pattern at 30 fps, --http) and two viewers of it on this host:

  - freshcam-view --headless --check-stamps: its true age (capture to decoded, read from each
    shown frame's stamp), its age bound and its decode time (its --stats-json);
  - the live page in headless Chromium (bench/browser.mjs): its age bound, and its true age
    (web/page.js's figures.trueAge, right only with the sender on this host): from the capture
    to the FRAME's last WebSocket message handed to the page, to decoded (createImageBitmap), to
    drawn (drawImage returned), and the sender's part (age_at_send) and the rest (the FRAME's
    send_real_ns to its last message in the page: the sender's WebSocket bridge, loopback, the
    browser's network process and its event loop).

Two configurations: "together" (the viewer and the page on the sender at once: the same frames,
the same seconds, the same load) and "alone" (the viewer alone, then the page alone, on the same
sender). Each figure is the median of the per-second figures over the measured seconds (after
--warm-up), then the median over --runs rounds; each round goes through every size and
configuration in turn, so a slow spell of a shared machine lands in one round of each, not in all
rounds of one. The 1-minute load average is taken at each run's start.

Usage: bench/browser.py [--build DIR] [--runs N] [--seconds N] [--warm-up N]
                        [--sizes 1280x720,640x480] [--adapt off|on]
                        [--update-doc docs/BENCHMARKS.md]
It times things, so it is not part of tools/check. Needs node, /usr/bin/chromium and
playwright-core (cd tests/web && npm ci --ignore-scripts); exits 77 without them."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

nan = float("nan")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, machine, median, stop, update_doc, wait_listening  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MARK_BEGIN = "<!-- bench/browser: begin -->"
MARK_END = "<!-- bench/browser: end -->"
VIEW_KEYS = ("true_age_ms_p50", "true_age_ms_p95", "age_bound_ms_p50", "age_bound_ms_p95",
             "est_age_ms_p50", "decode_ms_p50", "shown_fps")
PAGE_KEYS = ("atSendP50Ms", "firstP50Ms", "arrivedP50Ms", "arrivedP95Ms", "decodedP50Ms",
             "decodedP95Ms", "drawnP50Ms", "drawnP95Ms", "transitP50Ms")


def start_view(a, vport, js, seconds):
    return subprocess.Popen([os.path.join(a.build, "freshcam-view"), "--headless",
                             "--check-stamps", f"127.0.0.1:{vport}", "--stats-json", js,
                             "--seconds", str(seconds), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_node(mode, target, seconds, out):
    """bench/browser.mjs: the page in Chromium, or freshcam.js in node over "ws" or "tcp"."""
    flags = ["--experimental-websocket"] if mode == "ws" else []
    return subprocess.Popen(["node", *flags, os.path.join(HERE, "browser.mjs"), mode, target,
                             str(seconds)], stdout=out, stderr=subprocess.PIPE)


def start_page(hport, seconds, out):
    return start_node("chromium", f"http://127.0.0.1:{hport}/", seconds, out)


def probe(mode, target, seconds, a, path, procs):
    """freshcam.js in node alone on the sender: the p50s of the moments it takes from the capture
    (at send, last byte in node, send to last byte) over the seconds after the warm-up."""
    with open(path, "w") as out:
        p = start_node(mode, target, seconds, out)
        procs.append(p)
        t0 = time.time()
        finish_page(p, f"{mode} probe")
    rows = [json.loads(l) for l in open(path) if l.strip()]
    body = [r["figures"]["trueAge"] for r in rows if "wall" in r and r["wall"] >= t0 + a.warm_up
            and r["figures"]["trueAge"]]
    return {f"{mode}_{k}": median([b[k] for b in body]) for k in ("atSendP50Ms", "arrivedP50Ms",
                                                                   "transitP50Ms")}


def view_figures(js, t0, lo, hi):
    """The viewer's per-second lines whose end lies in [lo, hi] (wall clock; t0 its start)."""
    lines = [json.loads(l) for l in open(js) if l.strip()]
    body = [l for l in lines if not l["summary"] and lo <= t0 + l["t"] <= hi]
    return {k: median([l[k] for l in body]) for k in VIEW_KEYS}, len(body)


def page_figures(path, lo, hi):
    """The page's per-second readings taken in [lo, hi] (wall clock)."""
    rows = [json.loads(l) for l in open(path) if l.strip()]
    body = [r["figures"] for r in rows if "wall" in r and lo <= r["wall"] <= hi and r["figures"]
            and r["figures"].get("trueAge")]
    decode = next((r["decode"] for r in rows if "decode" in r), {"p50Ms": float("nan")})
    out = {k: median([f["trueAge"][k] for f in body]) for k in PAGE_KEYS}
    out["page_bound_p50"] = median([f["boundP50Ms"] for f in body])
    out["page_bound_p95"] = median([f["boundP95Ms"] for f in body])
    out["page_fps"] = median([f["shownFps"] for f in body])
    out["clock_min"] = min((f["trueAge"]["clockMinMs"] for f in body), default=float("nan"))
    out["clock_max"] = max((f["trueAge"]["clockMaxMs"] for f in body), default=float("nan"))
    out["transit_min"] = min((f["trueAge"]["transitMinMs"] for f in body), default=float("nan"))
    out["grain_us"] = median([f["trueAge"]["grainUs"] for f in body])
    out["page_full"] = sum(f["width"] == f["srcWidth"] for f in body) / max(1, len(body))
    out["decode_alone_p50"] = decode.get("p50Ms", nan)  # nan: the snapshot failed (see its error)
    return out, len(body)


def finish_page(p, what):
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    if p.returncode == 77:
        print(err.decode().strip(), file=sys.stderr)
        sys.exit(77)
    if p.returncode != 0:
        raise SystemExit(f"{what}: bench/browser.mjs failed:\n{err.decode()}")


def together(a, hport, vport, vjs, pjs, procs):
    """The viewer and the page at once; only the seconds both saw are kept."""
    span = a.warm_up + a.seconds
    with open(pjs, "w") as out:
        # Chromium takes a second or two to start: the page first, the viewer 3 s later.
        page = start_page(hport, span + 6, out)
        procs.append(page)
        time.sleep(3)
        t0 = time.time()
        view = start_view(a, vport, vjs, span + 1)
        procs.append(view)
        view.wait(span + 20)
        finish_page(page, "together")
    lo, hi = t0 + a.warm_up, t0 + span + 1
    return view_figures(vjs, t0, lo, hi), page_figures(pjs, lo, hi)


def alone(a, hport, vport, vjs, pjs, procs):
    """The viewer, then the page, then the node probes over TCP and over the WebSocket."""
    span = a.warm_up + a.seconds
    t0 = time.time()
    view = start_view(a, vport, vjs, span + 1)
    procs.append(view)
    view.wait(span + 20)
    with open(pjs, "w") as out:
        page = start_page(hport, span + 3, out)
        procs.append(page)
        t1 = time.time()
        finish_page(page, "alone")
    p = page_figures(pjs, t1 + a.warm_up + 2, t1 + span + 3)
    p[0].update(probe("tcp", f"127.0.0.1:{vport}", span, a, pjs + ".tcp", procs))
    p[0].update(probe("ws", f"ws://127.0.0.1:{hport}/ws", span, a, pjs + ".ws", procs))
    return view_figures(vjs, t0, t0 + a.warm_up, t0 + span + 1), p


def one_run(a, size, mode, tmp, rnd):
    hport, vport = free_port(), free_port()
    tag = f"{size}-{mode}-{rnd}"
    sjs = os.path.join(tmp, f"send-{tag}.jsonl")
    send = subprocess.Popen([os.path.join(a.build, "freshcam-send"), "--size", size, "--fps", "30",
                             "--listen", f"127.0.0.1:{vport}", "--http", f"127.0.0.1:{hport}",
                             "--stats-json", sjs, "--quiet", "--adapt", a.adapt],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = []
    try:
        wait_listening(hport)
        wait_listening(vport)
        load = os.getloadavg()[0]
        paths = (os.path.join(tmp, f"view-{tag}.jsonl"), os.path.join(tmp, f"page-{tag}.jsonl"))
        run = together if mode == "together" else alone
        (v, nv), (p, np_) = run(a, hport, vport, *paths, procs)
    finally:
        stop(procs + [send])
    if nv < a.seconds // 2 or np_ < a.seconds // 2:
        raise SystemExit(f"{tag}: too few seconds measured (viewer {nv}, page {np_}); see {tmp}")
    r = {"size": size, "mode": mode, "load": load, **v, **p}
    r["drawn_ratio_p50"] = r["drawnP50Ms"] / r["true_age_ms_p50"]
    r["drawn_ratio_p95"] = r["drawnP95Ms"] / r["true_age_ms_p95"]
    r["bound_ratio_p50"] = r["page_bound_p50"] / r["age_bound_ms_p50"]
    return r


def table(a, rows, rev):
    loads = ", ".join(f"{r['load']:.1f}" for r in rows["all"])
    out = [f"Machine: {machine()}; the test pattern at 30 fps; medians of {a.runs} rounds, "
           f"{a.seconds:g} s measured per run after {a.warm_up:g} s of warm-up, the sender's "
           f"--adapt {a.adapt} (at {rev}); "
           f"1-minute load average at the runs' starts: {loads}.", "",
           "| picture | viewers | freshcam-view true age p50 / p95 | page true age, drawn, "
           "p50 / p95 | page ÷ view p50 / p95 | view bound p50 / p95 | page bound p50 / p95 "
           "| shown fps view / page |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows["median"]:
        out.append(f"| {r['size']} | {r['mode']} | {r['true_age_ms_p50']:.2f} / "
                   f"{r['true_age_ms_p95']:.2f} ms | {r['drawnP50Ms']:.2f} / "
                   f"{r['drawnP95Ms']:.2f} ms | {r['drawn_ratio_p50']:.2f}x / "
                   f"{r['drawn_ratio_p95']:.2f}x | {r['age_bound_ms_p50']:.2f} / "
                   f"{r['age_bound_ms_p95']:.2f} ms | {r['page_bound_p50']:.2f} / "
                   f"{r['page_bound_p95']:.2f} ms | {r['shown_fps']:.1f} / "
                   f"{r['page_fps']:.1f} |")
    out += ["", "Where the page's age goes: p50s in ms, each the median of its own per-second "
            "p50s (so they need not add up exactly). From the capture: when the frame left the "
            "session (age_at_send) and when the page drew it; then each step: the FRAME's "
            "send_real_ns to its last byte handed to JavaScript (freshcam.js in node over TCP to "
            "the viewer port, in node over the WebSocket bridge, in the page), its last message "
            "to decoded (createImageBitmap, and beside it createImageBitmap on the same size of "
            "JPEG in the same page, one after another), decoded to drawn (drawImage). The node "
            "probes run alone on the sender, after the page (so only in the alone rows).", "",
            "| picture | viewers | sent | send to last byte: node TCP / node WS / page | "
            "last message to decoded (alone in the page) | decoded to drawn | drawn "
            "| freshcam-view decode |",
            "|---|---|---|---|---|---|---|---|"]
    for r in rows["median"]:
        out.append(f"| {r['size']} | {r['mode']} | {r['atSendP50Ms']:.2f} | "
                   f"{r.get('tcp_transitP50Ms', nan):.2f} / {r.get('ws_transitP50Ms', nan):.2f} / "
                   f"{r['transitP50Ms']:.2f} | {r['decodedP50Ms'] - r['arrivedP50Ms']:.2f} "
                   f"({r['decode_alone_p50']:.2f}) | {r['drawnP50Ms'] - r['decodedP50Ms']:.2f} | "
                   f"{r['drawnP50Ms']:.2f} | {r['decode_ms_p50']:.2f} |")
    al = rows["all"]
    out += ["", f"Clocks: performance.now() grain {median([r['grain_us'] for r in al]):.0f} us; "
            f"(timeOrigin + now) - Date.now() within [{min(r['clock_min'] for r in al):.2f}, "
            f"{max(r['clock_max'] for r in al):.2f}] ms in every run (the page's wall clock is "
            f"the host's); least FRAME send_real_ns to its last message in the page "
            f"{min(r['transit_min'] for r in al):.2f} ms (never negative: the two clocks agree); "
            f"the sender's --adapt {a.adapt}: the page had the full picture in "
            f"{100 * sum(r['page_full'] for r in al) / len(al):.0f}% of its seconds."]
    return "\n".join(out).replace("nan", "-")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/gcc")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warm-up", type=int, default=3)
    ap.add_argument("--sizes", default="1280x720,640x480")
    ap.add_argument("--adapt", default="off", choices=("on", "off"),
                    help="the sender's --adapt: off (the default) sends both viewers the full "
                    "picture, so that they see the same frames")
    ap.add_argument("--update-doc", help="replace the bench/browser section of this Markdown file")
    a = ap.parse_args()
    sizes = a.sizes.split(",")
    modes = ("together", "alone")
    runs = {(s, m): [] for s in sizes for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(a.runs):
            for s in sizes:
                for m in modes:
                    r = one_run(a, s, m, tmp, rnd)
                    print(json.dumps(r), file=sys.stderr)
                    runs[(s, m)].append(r)
    med = []
    for key, rs in runs.items():
        row = {k: median([r[k] for r in rs]) for k in rs[0] if k not in ("size", "mode")}
        med.append({"size": key[0], "mode": key[1], **row})
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=HERE).stdout.strip() or "?"
    text = table(a, {"median": med, "all": [r for rs in runs.values() for r in rs]}, rev)
    print(text)
    if a.update_doc:
        # Each --adapt has its own section: off (the same frames to both) and on (as served).
        tag = "" if a.adapt == "off" else ", adapt on"
        update_doc(a.update_doc, text, MARK_BEGIN.replace(":", tag + ":"),
                   MARK_END.replace(":", tag + ":"))


if __name__ == "__main__":
    main()
