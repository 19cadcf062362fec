"""End to end: freshcam-send on a camera — the project's fake UVC camera (tools/fakecam, an
LD_PRELOAD library) in YUYV and MJPEG mode, unplugged and replugged, and every error a person
meets opening one. The fake camera stamps each frame with its buffer's sequence number and
timestamp, so the viewer's --check-stamps measures the true age from the camera's capture."""
import os
import shutil
import subprocess

import fc

LIB = os.path.join(fc.BIN, "tools", "fakecam", "libfakecam.so")
SEND = os.path.join(fc.BIN, "freshcam-send")


def cam_env(**faults):
    # freshcam-send lends the library its own sanitizer runtime in a sanitizer build.
    env = fc.preload_env(LIB, foreign=False)
    env["FAKECAM_DEVICE"] = "/dev/video0"
    env.update({k: str(v) for k, v in faults.items()})
    return env


def camera_sender(port, *extra, env=None, name="send"):
    path = os.path.join(fc.TMP, f"{name}.jsonl")
    args = [SEND, "--device", "/dev/video0", "--listen", f"127.0.0.1:{port}",
            "--stats-json", path] + list(extra)
    return fc.Proc(name, args, path, env=env or cam_env())


def stream_through(fmt, name, **faults):
    port = fc.free_port()
    s = camera_sender(port, "--format", fmt, "--size", "640x480", env=cam_env(**faults),
                      name=f"send-{name}")
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "4", "--check-stamps", name=f"view-{name}")
    fc.check(v.wait(20) == 0, f"{name}: viewer exits 0", v, s)
    s.stop()
    return s, v


def test_yuyv():
    """YUYV from the camera, encoded by the sender: shown at the camera's rate, stamps intact"""
    s, v = stream_through("yuyv", "yuyv")
    sm = v.summary()
    fc.check_speed(sm["shown_fps"] >= 24, f"yuyv: shown {sm['shown_fps']} fps", v, s)
    fc.check(sm["shown"] > 0 and sm["stamped"] == sm["shown"] and sm["stamp_over_budget"] == 0,
             f"yuyv: every shown frame carries the camera's stamp, within budget "
             f"(true age max {sm.get('true_age_ms_max')} ms)", v)
    fc.check("YUYV encoded" in s.output(), "yuyv: the sender says it encodes YUYV", s)


def test_mjpeg():
    """the camera's MJPEG passed through unchanged: shown, stamps intact, none corrupt"""
    s, v = stream_through("mjpeg", "mjpeg")
    sm = v.summary()
    fc.check_speed(sm["shown_fps"] >= 24, f"mjpeg: shown {sm['shown_fps']} fps", v, s)
    fc.check(sm["corrupt"] == 0, f"mjpeg: {sm['corrupt']} corrupt", v, s)
    fc.check(sm["shown"] > 0 and sm["stamped"] == sm["shown"] and sm["stamp_over_budget"] == 0,
             "mjpeg: stamps intact and within budget", v)
    passed = max(l["passed_through"] for l in s.stats())
    fc.check(passed > 0 and max(l["encoded"] for l in s.stats()) == 0,
             f"mjpeg: frames passed through, none re-encoded ({passed})", s)


def test_mjpeg_without_huffman_tables():
    """a camera that omits the Huffman tables: the sender inserts them, the viewer decodes all"""
    s, v = stream_through("mjpeg", "nodht", FAKECAM_NO_DHT=1)
    sm = v.summary()
    fc.check(sm["shown"] >= 10 and sm["corrupt"] == 0,
             f"no-DHT: {sm['shown']} shown, {sm['corrupt']} corrupt", v, s)
    fc.check_speed(sm["shown"] > 60, f"no-DHT: more than 60 shown ({sm['shown']})", v, s)


def test_broken_mjpeg_dropped():
    """cut-short MJPEG frames are dropped and counted by the sender, never reach the viewer"""
    s, v = stream_through("mjpeg", "corrupt", FAKECAM_CORRUPT_EVERY=5)
    sm = v.summary()
    broken = max(l["broken"] for l in s.stats())
    fc.check(broken > 5, f"corrupt: the sender dropped and counted {broken} broken frames", s)
    fc.check(sm["corrupt"] == 0 and sm["shown"] >= 10,
             f"corrupt: the viewer saw none of them ({sm['shown']} shown)", v)
    fc.check_speed(sm["shown"] > 40, f"corrupt: more than 40 shown ({sm['shown']})", v)
    said = [l for l in s.output().splitlines() if "broken frame dropped" in l]
    # The first is said at once with its reason; the rest at most once every ten seconds.
    fc.check(said and "no end-of-image marker (frame cut short)" in said[0] and len(said) <= 2,
             f"corrupt: the sender says why, without flooding the console ({said[:2]})", s)


def test_unplug_and_replug():
    """unplugged mid-stream: the viewer stays connected, is told, and sees frames again soon
    after the camera is back"""
    port = fc.free_port()
    s = camera_sender(port, "--format", "mjpeg",
                      env=cam_env(FAKECAM_UNPLUG_AFTER=60, FAKECAM_REPLUG_AFTER=2), name="send-plug")
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "9", name="view-plug")
    fc.check(v.wait(30) == 0, "unplug: the viewer runs to its end", v, s)
    s.stop()
    # Staying connected: one connection in all (the sender saw exactly one viewer come and go)
    # and the viewer never lost the sender (it would say "sender lost, reconnecting").
    departed = s.summary()["departed_viewers"]
    fc.check(departed == 1 and "reconnecting" not in v.output(),
             f"unplug: the viewer stays connected to the end ({departed} connection(s))", v, s)
    lines = [l for l in v.stats() if not l["summary"]]
    shown = [l["shown_fps"] for l in lines]
    # 60 frames at 30 fps: gone at about 2 s, back about 2 s later (plus up to 1 s of retry).
    dark = [i for i, f in enumerate(shown) if f == 0 and i > 0]
    after = [f for i, f in enumerate(shown) if dark and i > max(dark)]
    fc.check(dark and after and max(after) > 0,
             f"unplug: a dark spell, then frames again after the replug ({shown})", v)
    fc.check_speed(len(dark) <= 4 and max(after, default=0) >= 20,
                   f"unplug: dark for at most 4 s, then at 20 fps or more ({shown})", v)
    out = v.output()
    fc.check("source lost" in out and "live again" in out,
             "unplug: the viewer is told the camera was lost and is back", v)
    fc.check(" lost (" in s.output() and "camera back" in s.output(),
             "unplug: the sender says so too", s)


def send_error(args, env):
    p = subprocess.run([SEND] + args + ["--seconds", "1", "--listen", "127.0.0.1:0"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20,
                       env=env)
    return p.returncode, p.stdout


def test_errors():
    """each way a camera fails to open gets its own message and advice"""
    rc, out = send_error(["--device", "/dev/video7"], cam_env())
    fc.check(rc == 1 and "/dev/video7" in out and "No such file or directory" in out
             and "/dev/video0" in out, f"missing device lists the cameras there are: {out!r}")
    rc, out = send_error(["--device", "/dev/video0"], cam_env(FAKECAM_BUSY=1))
    fc.check(rc == 1 and "Device or resource busy" in out and "fuser" in out,
             f"busy camera says who to close: {out!r}")
    rc, out = send_error(["--device", "/dev/null"], cam_env())
    fc.check(rc == 1 and "not a V4L2 device" in out, f"not a camera: {out!r}")
    rc, out = send_error(["--device", "/dev/video0", "--format", "yuyv"],
                         cam_env(FAKECAM_FORMATS="mjpeg:640x480@30,1280x720@30"))
    fc.check(rc == 1 and "does not offer YUYV" in out and "1280x720" in out,
             f"unsupported format lists what is supported: {out!r}")
    # Permission denied needs a user that lacks it: nobody, on a root-only file.
    path = os.path.join(fc.TMP, "video-noperm")
    open(path, "w").close()
    os.chmod(path, 0)
    os.chmod(fc.TMP, 0o755)
    # A copy of the binary where nobody may run it (the build tree may be in root's home).
    send_copy = os.path.join(fc.TMP, "freshcam-send")
    shutil.copy(SEND, send_copy)
    os.chmod(send_copy, 0o755)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", send_copy,
                        "--device", path, "--seconds", "1", "--listen", "127.0.0.1:0"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    fc.check(p.returncode == 1 and "Permission denied" in p.stdout and "video" in p.stdout,
             f"permission denied says how to get it: {p.stdout!r}")


def test_listing():
    """--list-devices and --list-formats show the camera and what it offers"""
    p = subprocess.run([SEND, "--list-devices"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=20, env=cam_env())
    fc.check(p.returncode == 0 and "/dev/video0" in p.stdout, f"--list-devices: {p.stdout!r}")
    p = subprocess.run([SEND, "--list-formats", "/dev/video0"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=20, env=cam_env())
    fc.check(p.returncode == 0 and "MJPG" in p.stdout and "YUYV" in p.stdout
             and "640x480 at 30 fps" in p.stdout, f"--list-formats: {p.stdout!r}")


if __name__ == "__main__":
    if not os.path.exists(LIB):
        fc.skip_all(f"{LIB} is not built (-DFC_BUILD_SENDER=OFF?)")
    fc.main(test_yuyv, test_mjpeg, test_mjpeg_without_huffman_tables, test_broken_mjpeg_dropped,
            test_unplug_and_replug, test_errors, test_listing)
