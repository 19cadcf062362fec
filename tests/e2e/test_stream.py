"""End to end on loopback: the streaming core's promises, counted from --stats-json.

Both processes run on this host, so a frame's stamp (its capture time on the sender's clock)
tells the viewer its true age exactly; --check-stamps counts any shown frame older than the
budget."""
import signal
import socket
import time

import fc

SOURCE_FPS = 30


def test_one_viewer():
    """640x480 at 30 fps: shown at about the source rate, every shown frame truly within budget"""
    port = fc.free_port()
    s = fc.sender("--size", "640x480", "--fps", str(SOURCE_FPS), port=port)
    fc.wait_listening(port)
    # A port probe, as a monitoring tool makes: a connection, never a viewer.
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    v = fc.viewer(port, "--seconds", "4", "--check-stamps")
    fc.check(v.wait(20) == 0, "viewer exits 0 after --seconds", v)
    s.stop()
    sm = v.summary()
    per_second = [l for l in v.stats() if not l["summary"]]
    fc.check(len(per_second) >= 3, f"one JSON line per second ({len(per_second)} in 4 s)", v)
    fc.check(all(b["shown"] >= a["shown"] for a, b in zip(per_second, per_second[1:])),
             "cumulative shown counts never go down", v)
    fc.check(0 < sm["shown_fps"] <= 1.1 * SOURCE_FPS,
             f"shown, never above the source rate ({sm['shown_fps']} fps)", v, s)
    fc.check_speed(sm["shown_fps"] >= 0.8 * SOURCE_FPS,
                   f"shown at about the source rate ({sm['shown_fps']} fps)", v, s)
    fc.check(sm["stamped"] == sm["shown"] and sm["unstamped"] == 0,
             f"every shown frame carries a readable stamp ({sm['stamped']}/{sm['shown']})", v)
    fc.check(sm["stamp_over_budget"] == 0 and sm["true_age_ms_max"] <= sm["budget_ms"],
             f"no shown frame older than the budget (true age max {sm['true_age_ms_max']} ms)", v)
    # On loopback a frame is late only when a busy CPU held it (the sanitizer builds run side by
    # side on two cores): a speed figure, like the rate.
    fc.check_speed(sm["rejected"] <= 0.05 * sm["received"],
                   f"few rejections on loopback ({sm['rejected']} of {sm['received']})", v)
    fc.check(sm["width"] == 640 and sm["height"] == 480, "resolution reported", v)
    out = v.output()
    fc.check("shown" in out and "age bound p50" in out and "rtt" in out and "MB/s" in out,
             "console lines carry fps, age bound, rtt and bytes/s", v)
    fc.check("summary:" in out, "a summary at exit", v)
    # The viewer left just before the sender stopped: its frames must be in the sender's summary
    # (it may not have been reaped by the accept loop yet). It is the only viewer there was
    # (fc.wait_listening makes no connection; the probe above is not a viewer), so exactly one
    # departed.
    ss = s.summary()
    fc.check(ss["departed_viewers"] == 1 and ss["departed_sent"] >= sm["shown"] and
             ss["departed_accepted"] >= sm["shown"],
             f"the sender's summary counts the viewer that left ({ss['departed_viewers']} departed, "
             f"sent {ss['departed_sent']}, "
             f"accepted {ss['departed_accepted']}; the viewer showed {sm['shown']})", s, v)
    fc.check(ss["other_connections"] == 1,
             f"the port probe is counted apart from the viewers "
             f"({ss['departed_viewers']} viewer, {ss['other_connections']} other)", s)


def test_frames_encoded_in_bands():
    """--encoders 3: each 1280x720 frame is cut in three bands, encoded at once and joined as
    one JPEG with restart markers, which the viewer decodes: shown at the source rate, every
    stamp readable, none corrupt, none over budget"""
    port = fc.free_port()
    s = fc.sender("--size", "1280x720", "--fps", str(SOURCE_FPS), "--encoders", "3", port=port)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "3", "--check-stamps")
    fc.check(v.wait(20) == 0, "viewer exits 0 after --seconds", v)
    s.stop()
    sm = v.summary()
    fc.check("quality 80 on 3 threads" in s.output(), "the sender says it encodes on 3 threads", s)
    fc.check(0 < sm["shown_fps"] <= 1.1 * SOURCE_FPS,
             f"shown, never above the source rate ({sm['shown_fps']} fps)", v, s)
    fc.check_speed(sm["shown_fps"] >= 0.8 * SOURCE_FPS,
                   f"shown at about the source rate ({sm['shown_fps']} fps)", v, s)
    fc.check(sm["corrupt"] == 0 and sm["unstamped"] == 0 and sm["stamped"] == sm["shown"],
             f"every frame decodes with its stamp ({sm['stamped']}/{sm['shown']}, "
             f"{sm['corrupt']} corrupt)", v)
    fc.check(sm["stamp_over_budget"] == 0, "no shown frame older than the budget", v)


def test_max_age_1_rejects_everything():
    """--max-age 1: every frame rejected and counted, the viewer says why, the sender is told"""
    port = fc.free_port()
    # At 1280x720 drawing and encoding alone take more than 1 ms, so no frame can be that fresh.
    # The full picture always: a 160x90 rendition can truly be under 1 ms old (0.8 ms measured,
    # once the link law had stepped down to it), and then showing it keeps the promise.
    s = fc.sender("--size", "1280x720", port=port)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "3", "--max-age", "1", "--adapt", "off")
    fc.check(v.wait(20) == 0, "viewer exits 0", v)
    time.sleep(1.2)  # one more sender report after the viewer left
    s.stop()
    sm = v.summary()
    fc.check(sm["shown"] == 0 and sm["accepted"] == 0, f"nothing shown ({sm['shown']})", v)
    fc.check(sm["rejected"] > 0 and sm["rejected"] == sm["received"],
             f"every frame rejected and counted ({sm['rejected']} of {sm['received']})", v)
    fc.check_speed(sm["rejected"] >= 2 * SOURCE_FPS,
                   f"at about the source rate ({sm['rejected']} in 3 s)", v)
    fc.check("nothing shown: every frame was over the 1.0 ms budget" in v.output(),
             "the viewer says why nothing is shown", v)
    told = max((x["late"] + x["too_old"] for line in s.stats() for x in line["viewers"]),
               default=0)
    accepted = max((x["accepted"] for line in s.stats() for x in line["viewers"]), default=0)
    fc.check(told >= sm["rejected"] - 2 * SOURCE_FPS and told > 0 and accepted == 0,
             f"the sender is told of the rejections ({told} late or too old)", s)
    # Each frame is counted once at the sender: a stale notice as too old, not again as late
    # when its VERDICT comes back. A few may be in flight when the viewer leaves.
    ss = s.summary()
    gone = ss["departed_late"] + ss["departed_too_old"]
    fc.check(sm["rejected"] - 10 <= gone <= sm["rejected"] + 10,
             f"the sender counts each rejected frame once ({ss['departed_late']} late + "
             f"{ss['departed_too_old']} too old; the viewer rejected {sm['rejected']})", s)


def test_three_viewers():
    """three viewers at once each get frames at about the source rate"""
    port = fc.free_port()
    s = fc.sender("--size", "640x480", port=port)
    fc.wait_listening(port)
    vs = [fc.viewer(port, "--seconds", "4", "--check-stamps", name=f"view{i}") for i in range(3)]
    for v in vs:
        fc.check(v.wait(20) == 0, f"{v.name} exits 0", v)
    s.stop()
    for v in vs:
        sm = v.summary()
        fc.check_speed(sm["shown_fps"] >= 0.7 * SOURCE_FPS,
                       f"{v.name} shown {sm['shown_fps']} fps", v, s)
        fc.check(sm["shown"] > 0 and sm["stamp_over_budget"] == 0
                 and sm["stamped"] == sm["shown"],
                 f"{v.name}: every shown frame within budget", v)
    fc.check("3 viewers" in s.output(), "the sender reports three viewers", s)


def test_stalled_viewer_does_not_slow_others():
    """a viewer that stops reading (SIGSTOP) costs the others nothing, and is dropped"""
    port = fc.free_port()
    s = fc.sender("--size", "640x480", port=port)
    fc.wait_listening(port)
    good = fc.viewer(port, "--seconds", "8", name="good")
    stuck = fc.viewer(port, "--seconds", "30", name="stuck")
    time.sleep(1.5)
    stuck.p.send_signal(signal.SIGSTOP)
    fc.check(good.wait(30) == 0, "the good viewer finishes", good)
    stuck.p.send_signal(signal.SIGCONT)
    stuck.stop(signal.SIGKILL)
    s.stop()
    lines = [l for l in good.stats() if not l["summary"]]
    after = [l["shown_fps"] for l in lines if l["t"] > 2.5]
    fc.check(len(after) >= 4 and min(after) > 0,
             f"the good viewer gets frames every second while the other is stuck ({after})",
             good, s)
    fc.check_speed(after and min(after) >= 0.8 * SOURCE_FPS,
                   f"the good viewer keeps its rate while the other is stuck ({after})", good, s)
    fc.check("silent for" in s.output() or "not reading" in s.output(),
             "the sender drops the stuck viewer and says why", s)


def test_stats_json_disk_full():
    """--stats-json on a full disk: said once, with the file and why, and the stream goes on"""
    port = fc.free_port()
    # /dev/full: every write fails with ENOSPC, as on a full disk.
    s = fc.sender("--size", "320x240", "--stats-json", "/dev/full", port=port, json=False)
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "4")
    fc.check(v.wait(20) == 0 and v.summary()["shown"] > 0, "the viewer is served", v, s)
    fc.check_speed(v.summary()["shown"] >= 2 * SOURCE_FPS,
                   f"all along ({v.summary()['shown']} frames in 4 s)", v, s)
    s.stop()
    out = s.output()
    said = out.count("cannot write --stats-json /dev/full: No space left on device")
    fc.check(said == 1, f"the sender says once that the JSON cannot be written ({said} times)", s)
    fc.check("summary:" in out, "the sender goes on to its summary", s)


if __name__ == "__main__":
    fc.main(test_one_viewer, test_frames_encoded_in_bands, test_max_age_1_rejects_everything,
            test_three_viewers, test_stalled_viewer_does_not_slow_others, test_stats_json_disk_full)
