"""End to end: --clock on the viewer, with the sender's clocks made wrong on purpose by
tools/clockshim (an LD_PRELOAD library; not built in sanitizer builds, where this script reports
itself skipped). Sender and viewer share this host, so with true clocks the wall clocks agree
exactly, and a shown frame's stamp gives its true age (--check-stamps)."""
import os
import sys

import fc

SHIM = os.path.join(fc.BIN, "tools", "clockshim", "libclockshim.so")
LAGPROXY = os.path.join(fc.BIN, "tools", "lagproxy", "lagproxy")
BUDGET_MS = 80


def pair(name, clock, seconds=3, shim=None, delay_ms=0, viewer_args=()):
    """640x480 at 30 fps from a sender (its clocks skewed by shim: FC_CLOCKSHIM_* settings) to a
    viewer judging by --clock clock, through a lagproxy adding delay_ms each way if not 0.
    Returns (sender, viewer, viewer summary)."""
    env = dict(os.environ)
    if shim:
        env["LD_PRELOAD"] = SHIM
        env.update({k: str(v) for k, v in shim.items()})
    port = fc.free_port()
    args = [os.path.join(fc.BIN, "freshcam-send"), "--listen", f"127.0.0.1:{port}", "--size",
            "640x480", "--fps", "30"]
    s = fc.Proc(f"{name}-send", args, env=env)
    fc.wait_listening(port)
    relay = None
    if delay_ms:
        rport = fc.free_port()
        relay = fc.Proc(f"{name}-lagproxy", [LAGPROXY, "--listen", f"127.0.0.1:{rport}",
                                             "--connect", f"127.0.0.1:{port}", "--delay",
                                             str(delay_ms), "--seconds", "60"])
        fc.wait_listening(rport)
        port = rport
    v = fc.viewer(port, "--seconds", str(seconds), "--clock", clock, "--check-stamps",
                  *viewer_args, name=f"{name}-view")
    fc.check(v.wait(seconds + 15) == 0, f"{name}: the viewer exits 0 after --seconds", v, s)
    if relay:
        relay.stop()
    s.stop()
    return s, v, v.summary()


def test_synced_true_clocks():
    """--clock synced:1 with clocks that agree, 20 ms each way: bounds lean on the wall clocks
    and are far tighter than the proven ones, none too old; on this host alone the proven
    interval is already narrower than 1 ms, and the wall clocks add nothing"""
    # Through the relay the proven bound charges the 20 ms trip of the fastest request; the wall
    # clocks, vouched for to 1 ms, charge about 1 ms.
    s, v, sm = pair("synced", "synced:1", delay_ms=20)
    fc.check(sm["clock"] == "synced" and sm["synced_frames"] > 0.9 * sm["received"]
             and sm["shown"] > 30,
             f"synced: {sm['synced_frames']} of {sm['received']} frames bounded by the wall "
             f"clocks, {sm['shown']} shown", v)
    fc.check(sm["age_bound_ms_p50"] < sm["request_bound_ms_p50"] - 15,
             f"synced: the bound (p50 {sm['age_bound_ms_p50']:.1f} ms) is below the request's "
             f"(p50 {sm['request_bound_ms_p50']:.1f} ms) by about the request's 20 ms trip", v)
    fc.check(sm["stamp_over_budget"] == 0, "synced: no shown frame truly too old", v)
    fc.check("do not agree" not in v.output(), "synced: nothing refuted", v)
    s, v, sm = pair("synced-local", "synced:1")
    # The interval is wider than 1 ms only while an exchange was held up (a busy CPU delaying a
    # PONG): then, and only then, the wall clocks may narrow a frame's bound. 2 of ~150 frames
    # were seen so with the sanitizer builds compiling beside the test.
    fc.check(sm["synced_frames"] <= 0.05 * sm["received"] and sm["clock"] == "synced"
             and sm["shown"] > 30,
             f"synced on one host: the proven interval (width p50 "
             f"{sm['offset_width_ms_p50']:.2f} ms) is tighter than 1 ms, so hardly a frame leans "
             f"on the wall clocks ({sm['synced_frames']} of {sm['received']})", v)


def test_false_wall_clock():
    """the sender's wall clock 30 ms ahead, then behind: the viewer says so once, leans on it
    for no frame, and goes on showing frames by the proven bound"""
    for off in (30, -30):
        name = f"wall{off:+d}"
        # The exchanges refute the lie at every frame only while the interval they prove is
        # narrower than it (less the 1 ms vouched for): a loaded machine can make the first
        # trips slow and the interval wide, and a frame inside it rightly leans on the wall
        # clocks (PROTOCOL.md, "Synced clocks"). Such a run proves nothing: run again, 3 times
        # at most.
        for attempt in range(3):
            s, v, sm = pair(name, "synced:1", shim={"FC_CLOCKSHIM_REAL_MS": off})
            if sm["offset_width_ms_max"] < abs(off) - 2:
                break
            print(f"note: {name}: the proven interval was {sm['offset_width_ms_max']:.1f} ms "
                  f"wide at a frame, too wide to refute {abs(off)} ms; once more")
        fc.check(sm["offset_width_ms_max"] < abs(off) - 2,
                 f"{name}: the exchanges prove the offset to within {abs(off) - 2} ms "
                 f"({sm['offset_width_ms_max']:.1f} ms at the widest)", v)
        out = v.output()
        fc.check(out.count("--clock synced: the wall clocks do not agree to within 1 ms") == 1,
                 f"{name}: the viewer says once that the clocks are not synced", v)
        fc.check(sm["clock"] == "refuted" and sm["synced_frames"] == 0,
                 f"{name}: no frame bounded by the false clock ({sm['synced_frames']})", v)
        fc.check(sm["shown"] > 30 and sm["stamp_over_budget"] == 0,
                 f"{name}: frames still shown by the proven bound ({sm['shown']}), none too old",
                 v)


def test_preempted_clock_reads():
    """true wall clocks, the sender's read of its wall clock held up 15 ms every other time (a
    preemption on a loaded machine), 20 ms each way, budget 40 ms: the held-up reads are never
    paired with S2, so no frame's bound comes out low and none shown is too old"""
    # Paired with S2, a read 15 ms late makes the sender's wall clock look 15 ms late: inside
    # the 40 ms the trips leave the proven interval, so --clock synced believed it and bounded
    # such frames 14 ms below their age; frames 40 to 54 ms old were shown (the sender's
    # wall clock was read after S2 with nothing between: a wall-30 run once leaned on a clock
    # 30 ms behind that way, under load). Now each side reads it between two monotonic readings
    # 20 us apart at most, or sends 0.
    s, v, sm = pair("stall", "synced:1", seconds=4, shim={"FC_CLOCKSHIM_STALL_MS": 15},
                    delay_ms=20, viewer_args=("--max-age", "40"))
    fc.check(sm["shown"] > 0 and sm["stamped"] == sm["shown"] and sm["stamp_over_budget"] == 0,
             f"stall: no shown frame older than 40 ms ({sm['stamp_over_budget']} of "
             f"{sm['shown']} shown, {sm['rejected']} rejected)", v, s)
    fc.check(sm["synced_frames"] > 0 and sm["clock"] == "synced",
             f"stall: the wall clocks still narrow the bound ({sm['synced_frames']} frames)", v)


def test_drift_beyond_allowance():
    """a sender clock 1500 ppm fast, three times what the interval allows: the contradiction is
    caught, the interval restarts, and the stream goes on"""
    # Not faster: the request's bound allows a hold 500 ppm (+ 50 us) longer than the round trip,
    # and a 33 ms hold read 0.15% long is still inside that, so frames keep being judged.
    s, v, sm = pair("drift", "proven", shim={"FC_CLOCKSHIM_PPM": 1500})
    fc.check(sm["offset_restarts"] > 0 and "learning it anew" in v.output(),
             f"drift: the interval restarted ({sm['offset_restarts']} times) and said so", v)
    fc.check(sm["shown"] > 30, f"drift: frames still shown ({sm['shown']})", v)


def test_bad_clock_option():
    """--clock with a wrong value: a message that names it and the choices, exit 2"""
    rc, out = fc.run([os.path.join(fc.BIN, "freshcam-view"), "--clock", "ntp"])
    fc.check(rc == 2 and "--clock 'ntp'" in out and "synced:ERROR_MS" in out,
             f"--clock ntp refused with the choices (exit {rc}): {out.strip()}")
    rc, out = fc.run([os.path.join(fc.BIN, "freshcam-view"), "--clock", "synced:-1"])
    fc.check(rc == 2 and "synced:ERROR_MS" in out, f"--clock synced:-1 refused: {out.strip()}")


if __name__ == "__main__":
    if not os.path.exists(SHIM):
        print(f"skipped: {SHIM} is not built (sanitizer builds cannot preload it)")
        sys.exit(77)
    fc.main(test_synced_true_clocks, test_false_wall_clock, test_preempted_clock_reads,
            test_drift_beyond_allowance, test_bad_clock_option)
