"""End to end: streams that break and come back. A restarted sender, a killed and restarted
viewer, and a dialling sender whose listening viewer restarts all end in a reconnected stream
within a few seconds, with the console saying what happened."""
import os
import signal
import time

import fc

VIEW = os.path.join(fc.BIN, "freshcam-view")


def shown_after(v, t):
    return [l["shown_fps"] for l in v.stats() if not l["summary"] and l["t"] > t]


def test_sender_restart():
    """the viewer outlives a sender restart and reconnects by itself"""
    port = fc.free_port()
    first = fc.sender(port=port, name="send-first")
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "9", "--check-stamps")
    time.sleep(2.5)
    first.stop(signal.SIGKILL)  # no BYE: the viewer must notice the dead link itself
    time.sleep(1.0)
    second = fc.sender(port=port, name="send-second")
    fc.check(v.wait(30) == 0, "the viewer runs to its end", v)
    second.stop()
    out = v.output()
    fc.check(out.count("connected to") >= 2 and "reconnecting" in out,
             "the viewer says it lost the stream and connected again", v)
    after = shown_after(v, 6.0)
    fc.check(after and min(after) >= 20, f"frames flow again within a few seconds ({after})",
             v, second)
    sm = v.summary()
    fc.check(sm["stamp_over_budget"] == 0, "no shown frame older than the budget", v)


def test_viewer_restart():
    """a viewer killed mid-stream leaves the sender serving; a new one gets frames at once"""
    port = fc.free_port()
    s = fc.sender(port=port)
    fc.wait_listening(port)
    v1 = fc.viewer(port, "--seconds", "30", name="view-killed")
    time.sleep(1.5)
    v1.stop(signal.SIGKILL)
    v2 = fc.viewer(port, "--seconds", "2.5", name="view-new")
    fc.check(v2.wait(20) == 0 and v2.summary()["shown_fps"] > 20,
             f"the new viewer gets frames ({v2.summary()['shown_fps']} fps)", v2, s)
    s.stop()


def test_dialling_sender_redials():
    """a sender in --connect mode redials when its listening viewer restarts"""
    port = fc.free_port()
    args = [VIEW, "--headless", "--listen", f"127.0.0.1:{port}"]
    v1 = fc.Proc("view-listen1", args + ["--seconds", "30"])
    time.sleep(0.5)
    s = fc.sender("--connect", f"127.0.0.1:{port}", json=False)
    time.sleep(2.0)
    v1.stop(signal.SIGKILL)
    path = os.path.join(fc.TMP, "listen2.jsonl")
    v2 = fc.Proc("view-listen2", args + ["--seconds", "6", "--stats-json", path], path)
    fc.check(v2.wait(30) == 0, "the second listening viewer runs to its end", v2, s)
    s.stop()
    sm = v2.summary()
    fc.check(sm["shown"] > 60, f"the sender dialled it again ({sm['shown']} frames shown)", v2, s)
    fc.check("dialling" in s.output(), "the sender says it dials again", s)


if __name__ == "__main__":
    fc.main(test_sender_restart, test_viewer_restart, test_dialling_sender_redials)
