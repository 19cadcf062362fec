"""End to end: camera controls and stills from the viewer (protocol 5, docs/PROTOCOL.md section
11) against the fake camera (tools/fakecam: brightness, a focus with a step of 5, an exposure menu
with holes): listed, set, refused out of range and off the menu, refused without --allow-control,
from a viewer with a wrong passphrase and for a source that is no camera; a still arrives at full
size while the stream runs on a smaller rendition; hostile commands get an error answer and end
nothing."""
import glob
import json
import os
import shutil
import struct
import subprocess
import time

import fc
import wire

LIB = os.path.join(fc.BIN, "tools", "fakecam", "libfakecam.so")
SEND = os.path.join(fc.BIN, "freshcam-send")
VIEW = os.path.join(fc.BIN, "freshcam-view")
CONTROL, CONTROL_RESULT, STILL = 12, 13, 14


def camera_sender(port, *extra, name="send"):
    env = fc.preload_env(LIB, foreign=False)
    env["FAKECAM_DEVICE"] = "/dev/video0"
    path = os.path.join(fc.TMP, f"{name}.jsonl")
    args = [SEND, "--device", "/dev/video0", "--listen", f"127.0.0.1:{port}",
            "--stats-json", path] + list(extra)
    s = fc.Proc(name, args, path, env=env)
    fc.wait_listening(port)
    return s


def command(port, *extra, name, seconds=None, env=None):
    """A viewer that runs the commands: --list-controls ends by itself, others after seconds."""
    args = [VIEW, "--headless", f"127.0.0.1:{port}", "--stats-json",
            os.path.join(fc.TMP, f"{name}.jsonl")] + list(extra)
    if seconds:
        args += ["--seconds", str(seconds)]
    v = fc.Proc(name, args, os.path.join(fc.TMP, f"{name}.jsonl"), env=env)
    rc = v.wait(30)
    return rc, v


def listed(v):
    """The controls a --list-controls printed, by name."""
    out = {}
    for line in v.output().splitlines():
        if line.startswith("{"):
            c = json.loads(line)
            out[c["name"]] = c
    return out


def test_list_and_set():
    """the list has v4l2-ctl's names, ranges and menus; values set are checked, rounded to the
    camera's step as the kernel does, and seen in the next list"""
    port = fc.free_port()
    s = camera_sender(port, "--allow-control")
    rc, v = command(port, "--list-controls", name="view-list")
    c = listed(v)
    fc.check(rc == 0 and {"brightness", "contrast", "saturation", "power_line_frequency",
                          "white_balance_temperature", "auto_exposure", "exposure_time_absolute",
                          "focus_absolute"} <= set(c),
             f"--list-controls exits 0 with every control of the camera ({sorted(c)})", v, s)
    if "brightness" in c and "auto_exposure" in c:
        b, e = c["brightness"], c["auto_exposure"]
        fc.check((b["min"], b["max"], b["step"], b["value"], b["type"]) == (-64, 64, 1, 0, "int"),
                 f"brightness: range -64..64 step 1, value 0 ({b})", v)
        fc.check(e["menu"] == {"1": "Manual Mode", "3": "Aperture Priority Mode"},
                 f"auto_exposure: the menu's holes are left out ({e['menu']})", v)
    rc, v = command(port, "--control", "brightness=40", "--control", "focus_absolute=7",
                    "--control", "auto_exposure=1", name="view-set", seconds=2)
    out = v.output()
    fc.check(rc == 0 and "camera: brightness=40" in out and "camera: auto_exposure=1" in out,
             "--control: set, and the viewer prints each result", v, s)
    fc.check("focus_absolute=5 (asked 7; the camera's step is 5)" in out,
             "a value between steps: the camera's rounding is said", v)
    fc.check(v.summary()["shown"] > 0, "the stream runs while commands go", v)
    rc, v = command(port, "--list-controls", name="view-list-again")
    c = listed(v)
    fc.check(c.get("brightness", {}).get("value") == 40 and
             c.get("focus_absolute", {}).get("value") == 5,
             "the next list shows the values set", v)
    s.stop()


def test_refused():
    """out of range, off the menu, an unknown name: each refused with a reason, the stream goes on;
    without --allow-control and for a test pattern everything is refused"""
    port = fc.free_port()
    s = camera_sender(port, "--allow-control")
    rc, v = command(port, "--control", "brightness=99", "--control", "auto_exposure=2",
                    "--control", "brightnes=1", name="view-refused", seconds=3)
    out = v.output()
    fc.check("out of range: brightness: 99 is outside its range -64..64" in out,
             "a value out of range is refused with the range", v, s)
    fc.check("auto_exposure: 2 is not one of its menu items" in out,
             "a value in the range but not on the menu is refused", v, s)
    fc.check("unknown control: no control brightnes on /dev/video0; it has: brightness" in out,
             "an unknown name is refused with the names there are", v, s)
    sm = v.summary()
    fc.check(rc == 0 and sm["shown"] > 30, f"the stream went on ({sm['shown']} shown)", v, s)
    s.stop()
    port = fc.free_port()
    s = camera_sender(port, name="send-closed")
    rc, v = command(port, "--list-controls", name="view-closed")
    fc.check(rc == 0 and "refused: this sender takes no commands (start it with "
             "--allow-control)" in v.output() and not listed(v),
             "without --allow-control: refused, and said how to allow it", v, s)
    rc, v = command(port, "--still", os.path.join(fc.TMP, "no.jpg"), name="view-closed-still",
                    seconds=1)
    fc.check(not os.path.exists(os.path.join(fc.TMP, "no.jpg")) and "refused" in v.output(),
             "without --allow-control: no still either", v, s)
    s.stop()
    port = fc.free_port()
    s = fc.sender("--allow-control", port=port, name="send-pattern")
    fc.wait_listening(port)
    rc, v = command(port, "--control", "brightness=1", name="view-pattern", seconds=1)
    fc.check("no camera: the source is not a camera: it has no controls" in v.output(),
             "a test pattern has no controls, and says so", v, s)
    s.stop()


def test_passphrase():
    """with a passphrase: a viewer with the wrong one never gets to send a command; the right one
    does"""
    port = fc.free_port()
    good = dict(os.environ, FRESHCAM_PASSPHRASE="correct horse battery staple")
    bad = dict(os.environ, FRESHCAM_PASSPHRASE="wrong horse")
    env = fc.preload_env(LIB, foreign=False, env=good)
    env["FAKECAM_DEVICE"] = "/dev/video0"
    path = os.path.join(fc.TMP, "send-pass.jsonl")
    s = fc.Proc("send-pass", [SEND, "--device", "/dev/video0", "--listen", f"127.0.0.1:{port}",
                              "--stats-json", path, "--allow-control"], path, env=env)
    fc.wait_listening(port)
    rc, v = command(port, "--control", "brightness=-10", name="view-badpass", seconds=2, env=bad)
    fc.check("authentication failed" in v.output() and "brightness" not in s.output(),
             "a wrong passphrase: no command reaches the camera", v, s)
    rc, v = command(port, "--control", "brightness=-10", name="view-goodpass", seconds=2,
                    env=good)
    fc.check(rc == 0 and "camera: brightness=-10" in v.output(),
             "the right passphrase: the command is taken (sealed like everything else)", v, s)
    s.stop()


def jpeg_size(path):
    """A JPEG's width and height, from its SOF segment."""
    with open(path, "rb") as f:
        d = f.read()
    i = 2
    while i + 9 < len(d):
        marker, n = d[i + 1], struct.unpack(">H", d[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", d[i + 5:i + 9])
            return w, h
        i += 2 + n
    return None


def test_still():
    """a still asked as the viewer starts, while its stream begins on a quarter-size rendition
    and no full-size picture is made, arrives at the camera's full size; its metadata says which
    frame it is"""
    port = fc.free_port()
    s = camera_sender(port, "--allow-control", "--size", "1280x720", "--format", "yuyv")
    shot = os.path.join(fc.TMP, "shot.jpg")
    v = fc.viewer(port, "--seconds", "4", "--still", shot, "--max-age", "200", name="view-still")
    rc = v.wait(30)
    fc.check(rc == 0 and os.path.exists(shot), "--still: the viewer saves the still", v, s)
    if not os.path.exists(shot):
        s.stop()
        return
    fc.check(jpeg_size(shot) == (1280, 720), f"the still is 1280x720 ({jpeg_size(shot)})", v)
    with open(shot + ".json") as f:
        meta = json.load(f)
    fc.check(meta["width"] == 1280 and meta["height"] == 720 and meta["seq"] > 0 and
             meta["bytes"] == os.path.getsize(shot) and meta["quality"] == 80,
             f"its metadata: size, frame, bytes, quality ({meta})", v)
    fc.check(f"still saved to {shot} (frame {meta['seq']}, 1280x720" in v.output(),
             "the viewer says where it is", v)
    fc.check(v.summary()["shown"] > 0, "the stream ran around it", v)
    s.stop()


def viewer_peer(port):
    p = wire.Peer.dial(port)
    p.send(wire.hello(wire.ROLE_VIEWER, window=1, budget_us=80000))
    assert p.recv_until(wire.HELLO) is not None, "the sender did not answer the HELLO"
    return p


def control(cid, op, value=0, name=b""):
    return wire.message(CONTROL, struct.pack(">IBqB", cid, op, value, len(name)) + name)


def result(p):
    m = p.recv_until(CONTROL_RESULT)
    if m is None:
        return None
    cid, op, status = struct.unpack(">IBB", m[1][:6])
    return cid, op, status, m[1][6:].decode()


def test_hostile_commands():
    """unknown ops, names that are no control name, a list with a value: each gets an error
    answer and the connection goes on (a PING still gets its PONG); a name with a NUL is a
    malformed message and ends that connection only"""
    port = fc.free_port()
    s = camera_sender(port, "--allow-control")
    p = viewer_peer(port)
    cases = [(control(1, 99), 2, "unknown command op 99"),
             (control(2, 2, 5, b"Brightness; rm -rf /"), 2, "a control's name is 1 to 32"),
             (control(3, 2, 5, b""), 2, "a control's name"),
             (control(4, 1, 7), 2, "a list command carries no name and no value"),
             (control(5, 2, 1 << 40, b"brightness"), 4, "is outside its range"),
             (control(6, 2, -(1 << 63), b"exposure_time_absolute"), 4, "outside its range")]
    for i, (msg, status, text) in enumerate(cases):
        p.send(msg)
        r = result(p)
        fc.check(r is not None and r[0] == i + 1 and r[2] == status and text in r[3],
                 f"hostile command {i + 1}: status {status}, '{text}' (got {r})", s)
    p.send(wire.message(wire.PING, struct.pack(">Q", 77)))
    fc.check(p.recv_until(wire.PONG) is not None, "the connection goes on after them", s)
    p.send(b"".join(control(100 + i, 1) for i in range(200)))
    got = [result(p) for _ in range(200)]
    fc.check(all(r is not None and r[0] == 100 + i for i, r in enumerate(got)),
             "a flood of 200 commands: 200 answers, in order", s)
    time.sleep(1.2)
    p.send(wire.message(wire.PING, struct.pack(">Q", 78)))  # the next second's first command
    p.send(control(300, 1))
    result(p)
    # The count is logged after the answer goes: wait for the line, not for the answer.
    end = time.monotonic() + 5
    while "more commands answered, not logged" not in s.output() and time.monotonic() < end:
        time.sleep(0.05)
    logged = s.output().count(": list: ")
    fc.check(0 < logged <= 11 and "more commands answered, not logged" in s.output(),
             f"the flood is logged as a count, not line by line ({logged} lines)", s)
    p.send(control(7, 2, 1, b"a\0b"))
    got = p.bye_text()
    fc.check(got is not None and got[0] == 3 and p.wait_closed(),
             f"a NUL in a name: a malformed message, BYE protocol error ({got})", s)
    v = fc.viewer(port, "--seconds", "2", name="view-after-hostile")
    fc.check(v.wait(20) == 0 and v.summary()["shown"] > 0, "the sender serves others after", v, s)
    s.stop()


def white_in_corner(shot):
    """Pure white pixels in the top-left corner under the stamp's band: the help's text."""
    return sum(shot.pixel(x, y) == (255, 255, 255) for y in range(16, min(shot.height, 200))
               for x in range(0, min(shot.width, 320)))


def xdo(display, *args):
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_window_keys():
    """in the window: h shows the keys' help over the picture and hides it, s saves a still here,
    B and b nudge the brightness up and down by a twentieth of its range"""
    import test_window as tw  # the window's helpers: Xvfb, the window, screenshots
    tw.need_tools()
    if not shutil.which("xdotool"):
        raise fc.Skip("xdotool not installed (tools/check installs it)")
    port = fc.free_port()
    s = camera_sender(port, "--allow-control", name="send-keys")
    xproc, display = tw.start_xvfb()
    here = os.getcwd()
    os.chdir(fc.TMP)  # the window's stills are saved in the viewer's directory
    try:
        v, wid = tw.open_viewer(display, port, name="view-keys")
        xdo(display, "windowfocus", "--sync", wid)
        before = white_in_corner(tw.wait_shot(display, wid, tw.stamp_ok, 10))
        xdo(display, "key", "h")
        shot = tw.wait_shot(display, wid, lambda sh: white_in_corner(sh) > 300, 5)
        fc.check(white_in_corner(shot) > 300 and white_in_corner(shot) > 5 * before,
                 f"h: the help is drawn over the picture ({white_in_corner(shot)} white pixels "
                 f"at the top left, {before} before)", v)
        xdo(display, "key", "h")
        shot = tw.wait_shot(display, wid, lambda sh: white_in_corner(sh) < 300, 5)
        fc.check(white_in_corner(shot) < 300, "h again: the help is gone", v)
        xdo(display, "key", "s")
        xdo(display, "key", "shift+b")
        xdo(display, "key", "b")
        xdo(display, "key", "b")
        end = time.monotonic() + 10
        while time.monotonic() < end and "brightness=-6" not in v.output():
            time.sleep(0.2)
        stills = glob.glob(os.path.join(fc.TMP, "still-*.jpg"))
        fc.check(len(stills) == 1 and jpeg_size(stills[0]) == (640, 480),
                 f"s: a full-size still saved in the viewer's directory ({stills})", v, s)
        out = v.output()
        fc.check("camera: brightness=6" in out and "camera: brightness=0" in out and
                 "camera: brightness=-6" in out,
                 "B, b, b: brightness 6, 0, -6 (a twentieth of -64..64 each)", v, s)
        xdo(display, "key", "q")
        fc.check(v.wait(10) == 0, "q: the viewer ends", v)
    finally:
        os.chdir(here)
        xproc.kill()
        xproc.wait()
        s.stop()


if __name__ == "__main__":
    fc.main(test_list_and_set, test_refused, test_passphrase, test_still, test_hostile_commands,
            test_window_keys)
