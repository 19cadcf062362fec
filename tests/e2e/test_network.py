"""End to end through tools/lagproxy: the age check on a slow, jittery or narrow link.

freshcam-send, lagproxy and freshcam-view all run on this host, so a shown frame's stamp (its
capture time on the one clock) gives its true age exactly: --check-stamps counts every shown
frame older than the budget. The budget is the default 80 ms throughout."""
import os
import time

import fc

LAGPROXY = os.path.join(fc.BIN, "tools", "lagproxy", "lagproxy")
SOURCE_FPS = 30
BUDGET_MS = 80


def wait_output(proc, text, timeout=5):
    """Waits until a process has said text (the proxy's start line, before anyone dials it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in proc.output():
            return
        if proc.p.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{proc.name} did not say {text!r} within {timeout} s:\n{proc.output()}")


def through_proxy(name, proxy_args, seconds=4, viewer_args=()):
    """640x480 at 30 fps from the sender, through a lagproxy with proxy_args, to a viewer that
    checks stamps for `seconds`. Returns (sender, proxy, viewer, viewer summary)."""
    sport = fc.free_port()
    pport = fc.free_port()
    s = fc.sender("--size", "640x480", "--fps", str(SOURCE_FPS), port=sport, name=f"{name}-send")
    fc.wait_listening(sport)
    # A fixed seed: the same jitter every run. --seconds is only a backstop; the test stops it.
    lp = fc.Proc(f"{name}-lagproxy",
                 [LAGPROXY, "--listen", f"127.0.0.1:{pport}", "--connect", f"127.0.0.1:{sport}",
                  "--seed", "1", "--seconds", "60"] + list(proxy_args))
    wait_output(lp, "listening on")
    v = fc.viewer(pport, "--seconds", str(seconds), "--check-stamps", *viewer_args,
                  name=f"{name}-view")
    fc.check(v.wait(seconds + 15) == 0, f"{name}: viewer exits 0 after --seconds", v, lp)
    fc.check(lp.stop() == 0, f"{name}: lagproxy exits 0 on SIGTERM", lp)
    s.stop()
    return s, lp, v, v.summary()


def counts(sm):
    return (f"shown {sm['shown']}, rejected {sm['rejected']} (stale at sender "
            f"{sm['stale_at_sender']}), received {sm['received']}, shown_fps {sm['shown_fps']}, "
            f"age bound p50 {sm['age_bound_ms_p50']:.1f} max {sm['age_bound_ms_max']:.1f} ms, "
            f"rtt p50 {sm['rtt_ms_p50']:.1f} ms, true age p50 {sm['true_age_ms_p50']:.1f} "
            f"max {sm['true_age_ms_max']:.1f} ms, over budget {sm['stamp_over_budget']}")


def within_budget(name, sm, *procs):
    """Every shown frame truly within the budget; there must be some (none shown proves none)."""
    fc.check(sm["shown"] > 0 and sm["stamp_over_budget"] == 0 and sm["true_age_ms_max"] <= BUDGET_MS
             and sm["stamped"] == sm["shown"] and sm["unstamped"] == 0,
             f"{name}: no shown frame truly older than {BUDGET_MS} ms ({counts(sm)})", *procs)


def test_delay_20ms():
    """20 ms each way (rtt 40 ms): nearly every frame shown, each within the budget"""
    # The default window (2 requests in flight) is kept: it allows 2 frames per rtt + transfer,
    # about 2 / 45 ms = 44 fps here, above the source's 30, and measured it shows 29.8 fps (the
    # same as with --window 3). So the default is what a user gets at this rtt, and it is enough.
    _, lp, v, sm = through_proxy("delay20", ["--delay", "20"])
    fc.check(sm["shown_fps"] >= 0.8 * SOURCE_FPS,
             f"delay20: nearly every frame shown ({counts(sm)})", v, lp)
    fc.check(sm["rejected"] <= 0.1 * sm["received"],
             f"delay20: few rejected ({sm['rejected']} of {sm['received']})", v, lp)
    fc.check(sm["rtt_ms_p50"] >= 40, f"delay20: the proxy adds 40 ms to the rtt "
             f"(rtt p50 {sm['rtt_ms_p50']:.1f} ms)", v, lp)
    within_budget("delay20", sm, v, lp)
    fc.check("#1 opened" in lp.output() and "#1 closed" in lp.output(),
             "delay20: lagproxy says when the connection opens and closes", lp)


def test_delay_100ms():
    """100 ms each way (rtt 200 ms): every frame rejected, the viewer says why, none shown"""
    _, lp, v, sm = through_proxy("delay100", ["--delay", "100"])
    fc.check(sm["shown"] == 0 and sm["accepted"] == 0,
             f"delay100: nothing shown ({counts(sm)})", v, lp)
    fc.check(sm["rejected"] > 0 and sm["rejected"] == sm["received"],
             f"delay100: every frame rejected and counted ({sm['rejected']} of "
             f"{sm['received']})", v, lp)
    fc.check("nothing shown: every frame was over the" in v.output(),
             "delay100: the viewer says why nothing is shown", v)
    fc.check(sm["age_bound_ms_p50"] >= 200,
             f"delay100: the age bound sees the 200 ms rtt (p50 {sm['age_bound_ms_p50']:.1f})",
             v)


def test_jitter_around_budget():
    """20 ms + 0..40 ms jitter each way: some frames shown, some rejected, none shown too old"""
    # One way takes 20..60 ms, so a round trip (which the bound counts, both ways) takes
    # 40..120 ms, centred on the 80 ms budget: the bounds straddle it, and about a third of the
    # frames fit (30 ms + 0..40 ms would centre them on 100 ms, leaving only a few per cent,
    # too few to count on). --window 4: at rtt up to 120 ms, 2 requests in flight would cap the
    # rate near 20 fps; 4 keep the source's 30, so more frames put the claim to the test.
    # --clock request: this test is about bounds that straddle the budget, which the request's
    # own round trip makes them do; the offset interval's are tighter (the next test).
    _, lp, v, sm = through_proxy("jitter", ["--delay", "20", "--jitter", "40"], seconds=5,
                                 viewer_args=("--window", "4", "--clock", "request"))
    fc.check(sm["shown"] >= 10 and sm["rejected"] >= 10,
             f"jitter: some shown and some rejected ({counts(sm)}, late at display "
             f"{sm['late_at_display']})", v, lp)
    fc.check(sm["age_bound_ms_max"] > BUDGET_MS,
             f"jitter: bounds go past the budget (max {sm['age_bound_ms_max']:.1f} ms)", v)
    within_budget("jitter", sm, v, lp)


def test_jitter_offset_interval():
    """30 ms + 0..20 ms jitter each way: the offset interval shows far more frames than each
    frame's own round trip does, and none too old"""
    # The request's bound charges every frame with its own request's trip, 30..50 ms: with the
    # answer's 30..50 ms and the frame's age at the sender, most bounds land over 80 ms. The
    # offset interval (docs/PROTOCOL.md) charges the fastest request's trip instead, about 30 ms,
    # so the jitter of the way up drops out. Both are guarantees: no shown frame is too old.
    # The default window: it starts at 2, where frames wait in the sender's slot for a request,
    # and climbs to 4 within seconds (viewer/net/pace.h), which this test also proves.
    res = {}
    for clock in ("request", "proven"):
        _, lp, v, sm = through_proxy(f"clock-{clock}", ["--delay", "30", "--jitter", "20"],
                                     seconds=8, viewer_args=("--clock", clock))
        within_budget(f"clock {clock}", sm, v, lp)
        res[clock] = sm
    req, pro = res["request"], res["proven"]
    fc.check(pro["shown"] >= 60 and pro["shown"] >= 1.5 * req["shown"],
             f"the interval shows at least 1.5 times the frames the request's bound does "
             f"(request: {counts(req)}; proven: {counts(pro)})")
    fc.check(pro["age_bound_ms_p50"] <= pro["request_bound_ms_p50"] - 5
             and pro["offset_width_ms_p50"] > 0 and pro["offset_restarts"] == 0,
             f"the interval's bound is below the request's: p50 {pro['age_bound_ms_p50']:.1f} "
             f"against {pro['request_bound_ms_p50']:.1f} ms, interval width "
             f"{pro['offset_width_ms_p50']:.1f} ms, {pro['offset_restarts']} restarts")
    fc.check(pro["window"] > 2 and pro["window_max"] == 4,
             f"on this long path the window climbed from 2 to more ({pro['window']} of "
             f"{pro['window_max']} at the end)")


def test_narrow_link():
    """--adapt off (the full picture always): a downlink too narrow for the ~11 Mbit/s stream:
    shown frames stay within budget, and the counts say how many were rejected"""
    # 4 Mbit/s: a 45 KB frame alone takes 90 ms on the link, more than the budget, so none can
    # be shown; every one must be counted as rejected (or stale at the sender).
    _, lp, v, sm = through_proxy("narrow4", ["--down-rate", "4000"], seconds=4,
                                 viewer_args=("--adapt", "off"))
    fc.check(sm["received"] > 0, f"narrow4: frames arrive ({counts(sm)})", v, lp)
    fc.check(sm["shown"] == 0 and sm["rejected"] + sm["stale_at_sender"] > 0,
             f"narrow4: nothing shown, the lateness counted (rejected {sm['rejected']}, stale "
             f"at sender {sm['stale_at_sender']})", v, lp)
    fc.check(sm["bytes_per_s"] <= 4e6 / 8 * 1.1,
             f"narrow4: the proxy holds the rate ({sm['bytes_per_s'] * 8 / 1e6:.2f} Mbit/s)",
             v, lp)
    # 6 Mbit/s: a frame takes 60 ms, so the bounds straddle the budget and some frames are
    # shown, which puts the budget to a real test. --window 1: with 2 requests in flight the
    # second frame queues behind the first on the link and waits a whole frame time more, so
    # almost nothing fits (measured: 1 shown in 4 s); one at a time, frames do not queue.
    _, lp, v, sm = through_proxy("narrow6", ["--down-rate", "6000"], seconds=4,
                                 viewer_args=("--window", "1", "--adapt", "off"))
    fc.check(sm["shown"] > 0 and sm["rejected"] + sm["stale_at_sender"] > 0,
             f"narrow6: some shown, some rejected ({counts(sm)})", v, lp)
    fc.check(sm["shown_fps"] < SOURCE_FPS * 0.8,
             f"narrow6: the link caps the rate ({sm['shown_fps']} fps shown, "
             f"{sm['bytes_per_s'] * 8 / 1e6:.2f} Mbit/s)", v, lp)
    within_budget("narrow6", sm, v, lp)


def test_narrow_link_fitted():
    """adapting (the default): the same 4 Mbit/s downlink shows most frames, smaller ones,
    none over the budget"""
    _, lp, v, sm = through_proxy("fitted4", ["--down-rate", "4000"], seconds=5)
    within_budget("fitted4", sm, v, lp)
    fc.check(sm["shown_fps"] >= 15, f"fitted4: most frames shown ({counts(sm)})", v, lp)
    fc.check(sm["width"] < 640, f"fitted4: a smaller picture ({sm['width']} wide)", v)


if __name__ == "__main__":
    fc.main(test_delay_20ms, test_delay_100ms, test_jitter_around_budget,
            test_jitter_offset_interval, test_narrow_link,
            test_narrow_link_fitted)
