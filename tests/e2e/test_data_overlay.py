"""End to end: the data overlay (--data-overlay, the window's d key; README, "Data with frames").

A sender's local program hands it a JSON document for every frame (--data-in); the viewer, on a
virtual X server (Xvfb), draws each shown frame's own document small at the bottom left of its
picture, in the built-in font, read back here glyph by glyph (viewer/show/font.c):

- with --data-overlay the document is there, compact as it came, with '?' for the character the
  font lacks (the 'é' of "café");
- once the documents stop, the frames that come without one show none (a tile never keeps an
  older frame's document);
- the d key turns the overlay off and on again;
- two senders in one window, only one of them with documents: its tile shows its document at
  the smaller scale of a tile, the other tile shows none;
- without --data-overlay nothing is drawn, though the documents arrive (--stats-json counts
  them).

Needs Xvfb (xvfb), xwd (x11-apps), xwininfo and xprop (x11-utils), and xdotool for the key;
tools/check installs them. Without the first four the script exits 77 (ctest's skip), not a pass."""
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time

import fc
import test_data as td
import test_window as tw

WIDTH, HEIGHT = 640, 480
DOC = {"robot": "r1", "temp_c": 21.5, "label": "caf\u00e9"}
# As the window draws it: compact as it came, one '?' for the 'é' (the font is ASCII only).
SHOWN = '{"robot":"r1","temp_c":21.5,"label":"caf?"}'


class Feeder:
    """Hands the sender a document every 20 ms (its frames come every 100 ms: each frame takes
    one), in a thread, while on."""

    def __init__(self, path):
        self.lines = td.Lines(path)
        self.on = threading.Event()
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.on.set()
        self.t.start()

    def run(self):
        doc = json.dumps(DOC, separators=(",", ":"), ensure_ascii=False).encode()
        while not self.done.wait(0.02):
            try:
                if self.on.is_set():
                    self.lines.send(doc)
            except OSError:
                return  # the sender stopped first

    def stop(self):
        self.done.set()
        self.t.join(5)
        self.lines.close()


def ink(shot, x, y):
    """Whether (x, y) is the overlay's white text, not the picture darkened under its box."""
    return tw.luma(shot.pixel(x, y)) > 160


def text_mismatch(shot, font, text, left, top, scale):
    """The fraction of the glyph cells of text, drawn at (left, top), that differ from the font."""
    bad = 0
    for i, ch in enumerate(text):
        glyph = font.get(ch, font["?"])
        for gy in range(7):
            for gx in range(5):
                x = left + (i * 6 + gx) * scale + scale // 2
                y = top + gy * scale + scale // 2
                if x >= shot.width or y >= shot.height:
                    return 1.0
                bad += (glyph[gy][gx] == "X") != ink(shot, x, y)
    return bad / (len(text) * 35)


def fit(area, w, h):
    """The picture's rectangle in a tile's area, as display.c fits it (aspect kept, centred)."""
    ax, ay, aw, ah = area
    if aw * h > ah * w:
        rh, rw = ah, ah * w // h
    else:
        rw, rh = aw, aw * h // w
    return ax + (aw - rw) // 2, ay + (ah - rh) // 2, rw, rh


def says(shot, font, picture, text=SHOWN):
    """Whether the one-line overlay at the bottom left of picture reads text (databox.c: scale 2
    on a picture 480 wide or more, else 1; a margin of 4 font pixels); a pixel's slack either
    way."""
    px, py, pw, ph = picture
    scale = 2 if pw >= 480 else 1
    left, top = px + 4 * scale, py + ph - 4 * scale - 7 * scale
    return min(text_mismatch(shot, font, text, left + dx, top + dy, scale)
               for dx in (-1, 0, 1) for dy in (-1, 0, 1)) <= 0.02


def whole(shot):
    return (0, 0, shot.width, shot.height)


def press(display, wid, key):
    env = dict(os.environ, DISPLAY=display)
    subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, timeout=10)
    subprocess.run(["xdotool", "key", "--window", wid, key], env=env, timeout=10)


@contextlib.contextmanager
def xserver():
    """An X server for one test, and the feeders it starts (stopped at its end, before it);
    yields (display, font, feeders)."""
    tw.need_tools()
    font = tw.load_font()
    xv, display = tw.start_xvfb()
    feeders = []
    try:
        yield display, font, feeders
    finally:
        for f in feeders:
            f.stop()
        xv.terminate()
        xv.wait(10)


def sender_with_data(name, fps="10"):
    """A sender with --data-in; returns (sender, port, socket path)."""
    din = os.path.join(fc.TMP, f"{name}-in.sock")
    port = fc.free_port()
    s = fc.sender("--size", f"{WIDTH}x{HEIGHT}", "--fps", fps, "--quiet", "--data-in", din,
                  port=port, name=name)
    fc.wait_listening(port)
    return s, port, din


def test_overlay_shows_each_frames_document():
    """--data-overlay draws each shown frame's own document; none once frames come without one;
    the d key turns it off and on"""
    with xserver() as (display, font, feeders):
        s, port, din = sender_with_data("one-send")
        feed = Feeder(din)
        feeders.append(feed)
        v, wid = tw.open_viewer(display, port, "--data-overlay", name="one-view")
        shot = tw.wait_shot(display, wid, lambda sh: says(sh, font, whole(sh)), 15)
        fc.check(says(shot, font, whole(shot)),
                 f"the overlay reads '{SHOWN}' at the picture's bottom left", v)
        tw.check_live(shot, v, "under the overlay")

        feed.on.clear()  # the frames that follow come without a document
        shot = tw.wait_shot(display, wid, lambda sh: not says(sh, font, whole(sh)), 5)
        fc.check(not says(shot, font, whole(shot)),
                 "frames without a document show none (not the last one that came)", v)
        feed.on.set()
        shot = tw.wait_shot(display, wid, lambda sh: says(sh, font, whole(sh)), 5)
        fc.check(says(shot, font, whole(shot)), "documents again: the overlay again", v)

        if shutil.which("xdotool"):
            press(display, wid, "d")
            shot = tw.wait_shot(display, wid, lambda sh: not says(sh, font, whole(sh)), 8)
            fc.check(not says(shot, font, whole(shot)) and "data overlay off" in v.output(),
                     "the d key turns it off", v)
            press(display, wid, "d")
            shot = tw.wait_shot(display, wid, lambda sh: says(sh, font, whole(sh)), 8)
            fc.check(says(shot, font, whole(shot)) and "data overlay on" in v.output(),
                     "and on again", v)
        else:
            print("skipped: the d key: xdotool not installed (tools/check installs it)")
        fc.check(v.stop() == 0, "the viewer stops cleanly", v)
        fc.check(v.summary().get("data_frames", 0) > 0, "its --stats-json counts the documents",
                 v)
        s.stop()


def test_overlay_per_tile():
    """two senders in one window, one with documents: its tile shows them, the other none"""
    with xserver() as (display, font, feeders):
        s1, port1, din = sender_with_data("tile-send1")
        s2, port2, _ = sender_with_data("tile-send2")
        feeders.append(Feeder(din))
        v, wid = tw.open_viewer(display, port1, f"127.0.0.1:{port2}", "--data-overlay",
                                name="tile-view")

        def tiles(sh):  # two tiles side by side (grid.h), each picture fitted in its half
            half = sh.width // 2
            return (fit((0, 0, half, sh.height), WIDTH, HEIGHT),
                    fit((half, 0, sh.width - half, sh.height), WIDTH, HEIGHT))

        # Which tile is whose depends on which connected first: one says, one does not.
        one = lambda sh: sum(says(sh, font, t) for t in tiles(sh)) == 1
        shot = tw.wait_shot(display, wid, one, 15)
        fc.check(one(shot), "exactly one tile shows the document, at the tile's small scale", v)
        fc.check(v.stop() == 0, "the viewer stops cleanly", v)
        s1.stop()
        s2.stop()


def test_no_overlay_by_default():
    """without --data-overlay nothing is drawn, though each frame brings its document"""
    with xserver() as (display, font, feeders):
        s, port, din = sender_with_data("off-send")
        feeders.append(Feeder(din))
        v, wid = tw.open_viewer(display, port, name="off-view")
        shot = tw.wait_shot(display, wid, tw.stamp_ok, 10)
        seen = False
        end = time.monotonic() + 2
        while time.monotonic() < end:
            seen = seen or says(tw.Shot(display, wid), font, whole(shot))
            time.sleep(0.2)
        fc.check(not seen, "no overlay in 2 s of screenshots", v)
        fc.check(v.stop() == 0, "the viewer stops cleanly", v)
        fc.check(v.summary().get("data_frames", 0) > 0,
                 "the documents did arrive (--stats-json counts them)", v)
        s.stop()


if __name__ == "__main__":
    fc.main(test_overlay_shows_each_frames_document, test_overlay_per_tile,
            test_no_overlay_by_default)
