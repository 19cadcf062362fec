"""End to end, the window: freshcam-view with a real window on a virtual X server (Xvfb), checked
from screenshots (xwd, parsed here: standard library only).

- Live: the window shows the test pattern: the stamp's fixed magic cells (light and dark 8x8
  blocks at the top left) and the rotating bar's centre, which is always the bar's colour.
- Stalled: with the sender stopped (SIGSTOP) and then gone (SIGTERM), the picture is dimmed and a
  banner in the built-in font says why, read back glyph by glyph against viewer/show/font.c; the
  console says so too, and that the stream came back in between.
- A smaller rendition (the sender fits the frames to a narrow link, here tools/lagproxy's rate
  cap): the window keeps the picture's size and the picture fills it as the full one would (the
  stamp and the bar where they are in the full picture), and the title says what arrives.
- A picture as large as the screen (1280x720 on 1280x800), and one larger (1280x960): the window
  lies wholly on the screen, centred, of the picture's shape (scaled down where it must be), and
  shows the picture.
- A screen no renderer can draw on (8 bits deep): the viewer says each attempt at a window that
  failed, once, and streams headless.

Needs Xvfb (xvfb), xwd (x11-apps), xwininfo and xprop (x11-utils): tools/check installs them. Without
them each test says "skipped: why" and the script exits 77 (ctest's skip), not a pass."""
import os
import re
import shutil
import signal
import struct
import subprocess
import time

import fc
import xvfb

LAGPROXY = os.path.join(fc.BIN, "tools", "lagproxy", "lagproxy")

WIDTH, HEIGHT = 640, 480
FONT_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "viewer", "show", "font.c")
YELLOW = (255, 210, 0)  # the banner's text (display.c BANNER_RGB)

# The stamp's first 16 cells are its magic, 0xFC5A, most significant bit first (common/stamp.c).
MAGIC_BITS = [(0xFC5A >> (15 - i)) & 1 for i in range(16)]
# The bar turns about (0.72 w, 0.62 h) (sender/capture/pattern.c), so that point is always the bar: luma
# 225, Cb 70, Cr 190, which is this in RGB (JPEG's full-range BT.601).
BAR_AT = (int(WIDTH * 0.72), int(HEIGHT * 0.62))
BAR_RGB = (255, 201, 122)


# ---- X: a server, the window, a screenshot ---------------------------------------------------

def start_xvfb():
    try:
        return xvfb.start()
    except RuntimeError as e:
        raise AssertionError(str(e))


def window_title(display, wid):
    """The window's title properties as xprop (x11-utils, like xwininfo) prints them: WM_NAME
    and _NET_WM_NAME (SDL may update only the first; its non-ASCII characters come escaped)."""
    return subprocess.run(["xprop", "-id", wid, "-display", display, "WM_NAME", "_NET_WM_NAME"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          errors="replace", timeout=10).stdout.strip()


def find_window(display, timeout=8):
    """The viewer's top-level window id, by its class."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = subprocess.run(["xwininfo", "-root", "-tree", "-display", display],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             timeout=10).stdout
        for line in out.splitlines():
            if '("freshcam-view"' in line:
                m = re.search(r"(0x[0-9a-f]+).*\s(\d+)x(\d+)\+", line)
                if m and int(m.group(2)) > 1:
                    return m.group(1)
        time.sleep(0.2)
    raise AssertionError("no freshcam-view window appeared")


def window_geometry(display, wid):
    """(x, y, width, height) of the window on the screen, as xwininfo measures it."""
    out = subprocess.run(["xwininfo", "-id", wid, "-display", display], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=10).stdout
    field = {k: int(re.search(rf"{k}:\s+(-?\d+)", out).group(1))
             for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")}
    return (field["Absolute upper-left X"], field["Absolute upper-left Y"], field["Width"],
            field["Height"])


class Shot:
    """A screenshot of one window: width, height and pixel(x, y) -> (r, g, b)."""

    def __init__(self, display, wid):
        data = subprocess.run(["xwd", "-silent", "-id", wid, "-display", display],
                              stdout=subprocess.PIPE, timeout=10, check=True).stdout
        h = struct.unpack(">25I", data[:100])
        header_size, fmt, self.width, self.height = h[0], h[2], h[4], h[5]
        byte_order, bpp, self.bpl = h[7], h[11], h[12]
        masks, ncolors = h[14:17], h[19]
        assert fmt == 2 and bpp == 32, f"unexpected XWD format {fmt}, {bpp} bpp"
        self.order = "<" if byte_order == 0 else ">"
        self.shifts = [(m, (m & -m).bit_length() - 1) for m in masks]
        self.pixels = data[header_size + 12 * ncolors:]

    def pixel(self, x, y):
        (v,) = struct.unpack_from(self.order + "I", self.pixels, y * self.bpl + 4 * x)
        return tuple((v & m) >> s for m, s in self.shifts)

    def mean(self, x, y, r=1):
        px = [self.pixel(x + dx, y + dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
        return tuple(sum(p[i] for p in px) / len(px) for i in range(3))

    def yellow(self, x, y):
        return close(self.pixel(x, y), YELLOW, 60)

    def count_yellow(self):
        return sum(self.yellow(x, y) for y in range(0, self.height, 2)
                   for x in range(0, self.width, 2))


def close(a, b, tol):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


def luma(rgb):
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


# ---- the banner, read back with the viewer's own font ----------------------------------------

def load_font():
    with open(FONT_C) as f:
        rows = re.findall(r'\{ ((?:"[.X]{5}", ){6}"[.X]{5}") \}', f.read())
    assert len(rows) == 95, f"font.c: {len(rows)} glyphs parsed, 95 expected"
    return {chr(32 + i): re.findall(r'"([.X]{5})"', r) for i, r in enumerate(rows)}


def line_mismatches(shot, font, lines, index, scale):
    """Pixels of line `index` of the banner that differ from the font's drawing of it: the
    block is centred in the window, each line centred in the block (font.c, display.c)."""
    widths = [(len(l) * 6 - 1) * scale for l in lines]
    block_w, block_h = max(widths), (len(lines) * 9 - 2) * scale
    left = (shot.width - block_w) // 2 + (block_w - widths[index]) // 2
    top = (shot.height - block_h) // 2 + index * 9 * scale
    bad = 0
    for i, ch in enumerate(lines[index]):
        glyph = font.get(ch, font["?"])
        for gy in range(7):
            for gx in range(5):
                x = left + (i * 6 + gx) * scale + scale // 2
                y = top + gy * scale + scale // 2
                if (glyph[gy][gx] == "X") != shot.yellow(x, y):
                    bad += 1
    return bad, len(lines[index]) * 35


def banner_says(shot, font, headline, detail):
    """Whether the window's banner reads headline / detail (its third line is the seconds,
    'N.N s'), at whatever scale fits; returns (ok, what was found)."""
    best = (1.0, None)
    for seconds in ("0.0 s", "10.0 s"):  # the third line is 5 or 6 characters wide
        lines = [headline, detail, seconds]
        for scale in range(1, 9):
            bad1, n1 = line_mismatches(shot, font, lines, 0, scale)
            bad2, n2 = line_mismatches(shot, font, lines, 1, scale)
            frac = (bad1 + bad2) / (n1 + n2)
            if frac < best[0]:
                best = (frac, scale)
    return best[0] <= 0.02, f"{best[0]:.1%} of glyph pixels differ at scale {best[1]}"


# ---- the test --------------------------------------------------------------------------------

def stamp_cells(shot):
    return [luma(shot.mean(8 * i + 4, 4)) for i in range(16)]


def stamp_ok(shot):
    return all((c > 180) if bit else (c < 60) for bit, c in zip(MAGIC_BITS, stamp_cells(shot)))


def wait_shot(display, wid, cond, timeout):
    """Screenshots until cond(shot) holds (a slow machine, a sanitizer build) or time is up;
    the last one either way."""
    end = time.monotonic() + timeout
    while True:
        shot = Shot(display, wid)
        if cond(shot) or time.monotonic() > end:
            return shot
        time.sleep(0.2)


def check_live(shot, v, what, bar_slack=40):
    """bar_slack: how far the bar's centre may be from its colour; a rendition at a quarter of
    each side or less draws the bar a few pixels wide, so scaled up its centre takes in some of
    the background (measured: 41 off at 160x120 q56 of 640x480, 75 at 80x60 under TSan); None:
    the bar is too thin to check, the stamp's cells alone prove the scaling."""
    if not fc.check((shot.width, shot.height) == (WIDTH, HEIGHT),
                    f"{what}: the window has the picture's size ({shot.width}x{shot.height})", v):
        return  # the points below are the picture's: nothing more to learn from this shot
    cells = stamp_cells(shot)
    fc.check(stamp_ok(shot),
             f"{what}: the stamp's magic cells are light and dark where they should be "
             f"({[round(c) for c in cells]})", v)
    bar = shot.mean(*BAR_AT)
    if bar_slack is None:
        print(f"note: {what}: the bar is not checked (at an eighth of each side or less it is "
              f"about a pixel wide, its centre mostly background: {tuple(round(c) for c in bar)})")
    else:
        fc.check(close(bar, BAR_RGB, bar_slack), f"{what}: the bar's centre has the bar's "
                 f"colour ({tuple(round(c) for c in bar)} vs {BAR_RGB})", v)
    fc.check(shot.count_yellow() < 50, f"{what}: no banner", v)


def check_stalled(shot, font, v, headline, detail, what):
    light = [luma(shot.mean(8 * i + 4, 4)) for i in range(6)]
    fc.check(max(light) < 110, f"{what}: the picture is dimmed (the stamp's light cells at "
             f"{[round(c) for c in light]}, live above 180)", v)
    bar = luma(shot.mean(*BAR_AT))
    fc.check(bar < 0.5 * luma(BAR_RGB), f"{what}: the bar is dimmed too ({bar:.0f})", v)
    ok, found = banner_says(shot, font, headline, detail)
    fc.check(ok, f"{what}: the banner reads '{headline} / {detail}' ({found})", v)


def need_tools():
    """Skips the test unless the X server and the screenshot tools are installed."""
    missing = [b for b in ("Xvfb", "xwd", "xwininfo", "xprop") if not shutil.which(b)]
    if missing:
        raise fc.Skip(f"{', '.join(missing)} not installed (tools/check installs them)")


def window_env(display):
    """The environment of a viewer with a window on display."""
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("SDL_VIDEODRIVER", None)
    # In a TSan build: Mesa's software OpenGL (llvmpipe, not instrumented) syncs its threads in
    # ways TSan cannot see; what it reports there is not ours.
    supp = os.path.join(fc.TMP, "tsan-mesa.supp")
    with open(supp, "w") as f:
        f.write("race:swrast_dri.so\nrace:libLLVM\nrace:libGLX_mesa.so\n")
    env["TSAN_OPTIONS"] = f"{os.environ.get('TSAN_OPTIONS', '')} suppressions={supp}"
    # Under ASan, SDL's X11 and GL libraries (loaded and unloaded by SDL itself) leave
    # allocations whose stacks point into unloaded code, which no suppression can name: leak
    # checking is off for this one windowed process. Every headless test still checks the
    # viewer's own code for leaks.
    env["ASAN_OPTIONS"] = f"{os.environ.get('ASAN_OPTIONS', '')}:detect_leaks=0".lstrip(":")
    return env


def open_viewer(display, port, *extra, name="view"):
    """A viewer with a window on display, dialling port; returns it once its window is open,
    with the window's id."""
    env = window_env(display)
    json_path = os.path.join(fc.TMP, f"{name}.jsonl")
    v = fc.Proc(name, [os.path.join(fc.BIN, "freshcam-view"), f"127.0.0.1:{port}",
                       "--seconds", "60", "--stats-json", json_path, *extra], json_path,
                env=env)
    # The window may be made twice (OpenGL drawn by the CPU gives way to SDL's software
    # renderer): look for it once the viewer says it is open.
    end = time.monotonic() + 10
    while "window open" not in v.output() and time.monotonic() < end:
        time.sleep(0.1)
    fc.check("window open" in v.output(), "the viewer says its window is open", v)
    return v, find_window(display)


def test_window():
    """the window shows the pattern, then says NO SIGNAL when the sender stops or goes"""
    need_tools()
    font = load_font()
    xvfb, display = start_xvfb()
    try:
        port = fc.free_port()
        s = fc.sender("--size", f"{WIDTH}x{HEIGHT}", "--fps", "30", port=port)
        fc.wait_listening(port)
        v, wid = open_viewer(display, port)
        check_live(wait_shot(display, wid, stamp_ok, 8), v, "running")

        s.p.send_signal(signal.SIGSTOP)  # frozen: connected, but nothing comes
        time.sleep(1.5)
        silent = "no frames from the sender"
        check_stalled(wait_shot(display, wid,
                                lambda sh: banner_says(sh, font, "NO SIGNAL", silent)[0], 5),
                      font, v, "NO SIGNAL", silent, "sender stopped")
        s.p.send_signal(signal.SIGCONT)
        check_live(wait_shot(display, wid, lambda sh: stamp_ok(sh) and sh.count_yellow() < 50,
                             5), v, "sender continued")

        s.stop()  # gone: the viewer redials
        lost = "sender lost, reconnecting"
        check_stalled(wait_shot(display, wid,
                                lambda sh: banner_says(sh, font, "NO SIGNAL", lost)[0], 5),
                      font, v, "NO SIGNAL", lost, "sender gone")
        fc.check(v.stop() == 0, "the viewer stops cleanly on SIGTERM", v)
        out = v.output()
        fc.check("running headless" not in out, "the viewer had a window", v)
        fc.check("NO SIGNAL - no frames from the sender" in out and "live again after" in out
                 and "NO SIGNAL - sender lost, reconnecting" in out,
                 "the console says when frames stop, why, and when they are back", v)
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def wait_reduced(v, timeout=10):
    """Waits until the viewer's latest --stats-json line says it got only reduced renditions of
    the picture for a whole second (one or several: the sender may move between two); returns
    that line (None if it never does)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lines = [l for l in v.stats() if not l["summary"]]
        if (lines and lines[-1]["width"] < WIDTH and lines[-1]["renditions"]
                and all(r["width"] < WIDTH for r in lines[-1]["renditions"])):
            return lines[-1]
        time.sleep(0.2)
    return None


def test_window_rendition():
    """a smaller rendition (a narrow link) fills the window of the picture's size; no jump"""
    need_tools()
    xvfb, display = start_xvfb()
    try:
        sport, pport = fc.free_port(), fc.free_port()
        s = fc.sender("--size", f"{WIDTH}x{HEIGHT}", "--fps", "30", port=sport,
                      name="rend-send")
        fc.wait_listening(sport)
        # 4 Mbit/s: a full 640x480 frame (~45 KB) would take 90 ms, over the budget; a half or
        # quarter size one fits 30 fps, so the sender settles on those.
        lp = fc.Proc("rend-lagproxy", [LAGPROXY, "--listen", f"127.0.0.1:{pport}", "--connect",
                                       f"127.0.0.1:{sport}", "--down-rate", "4000",
                                       "--seconds", "60"])
        end = time.monotonic() + 5
        while "listening on" not in lp.output() and time.monotonic() < end:
            time.sleep(0.05)
        v, wid = open_viewer(display, pport, name="rend-view")
        line = wait_reduced(v)
        if not fc.check(line is not None, "the viewer gets a reduced rendition through the "
                        "narrow link (--stats-json width below the picture's)", v, lp):
            return
        what = f"{line['width']}x{line['height']} of {WIDTH}x{HEIGHT}"
        # The picture in the window: the stamp's cells, drawn at the rendition's scale, land
        # where the full picture has them once scaled up; the bar too.
        check_live(wait_shot(display, wid, stamp_ok, 5), v, f"a {what} rendition",
                   40 if line["width"] * 2 >= WIDTH else 70 if line["width"] * 4 >= WIDTH
                   else None)
        fc.check((line["src_width"], line["src_height"]) == (WIDTH, HEIGHT),
                 f"the JSON says the picture's size ({line['src_width']}x{line['src_height']})",
                 v)
        title = ""
        end = time.monotonic() + 3
        while what not in title and time.monotonic() < end:
            title = window_title(display, wid)
            time.sleep(0.2)
        fc.check(what in title, f"the title says what arrives ('{what}' in '{title}')", v)
        fc.check(v.stop() == 0, "the viewer stops cleanly on SIGTERM", v)
        lp.stop()
        s.stop()
    finally:
        xvfb.terminate()
        xvfb.wait(10)


SCREEN_W, SCREEN_H = 1280, 800


def test_window_fits_screen():
    """a picture as large as the screen, or larger, gets a window wholly on it, centred"""
    need_tools()
    for pic_w, pic_h in ((1280, 720), (1280, 960)):
        xv, display = start_xvfb_screen(f"{SCREEN_W}x{SCREEN_H}x24")
        try:
            port = fc.free_port()
            s = fc.sender("--size", f"{pic_w}x{pic_h}", "--fps", "10", port=port,
                          name=f"fit{pic_h}-send")
            fc.wait_listening(port)
            v, wid = open_viewer(display, port, name=f"fit{pic_h}-view")
            # The window's size settles when the first picture is drawn (the HELLO's size).
            end = time.monotonic() + 5
            while True:
                x, y, w, h = window_geometry(display, wid)
                if time.monotonic() > end or (w >= SCREEN_W or h >= SCREEN_H):
                    break
                time.sleep(0.2)
            what = f"a {pic_w}x{pic_h} picture on a {SCREEN_W}x{SCREEN_H} screen"
            fc.check(x >= 0 and y >= 0 and x + w <= SCREEN_W and y + h <= SCREEN_H,
                     f"{what}: the window ({w}x{h} at {x},{y}) lies wholly on the screen", v)
            fc.check(abs(w * pic_h - h * pic_w) <= max(pic_w, pic_h),
                     f"{what}: the window ({w}x{h}) has the picture's shape", v)
            fc.check((w, h) == (pic_w, pic_h) if pic_h <= SCREEN_H
                     else (w == SCREEN_W or h == SCREEN_H),
                     f"{what}: the window ({w}x{h}) is as large as fits, no larger than the "
                     "picture", v)
            fc.check(abs(x - (SCREEN_W - w) // 2) <= 1 and abs(y - (SCREEN_H - h) // 2) <= 1,
                     f"{what}: the window ({w}x{h} at {x},{y}) is centred", v)
            # The picture fills the window: the bar's centre where it is in the picture.
            bar_at = (int(w * 0.72), int(h * 0.62))
            shot = wait_shot(display, wid, lambda sh: close(sh.mean(*bar_at), BAR_RGB, 40), 8)
            bar = shot.mean(*bar_at)
            fc.check(close(bar, BAR_RGB, 40), f"{what}: the picture fills the window (the bar's "
                     f"centre {tuple(round(c) for c in bar)} vs {BAR_RGB})", v)
            fc.check(v.stop() == 0, "the viewer stops cleanly on SIGTERM", v)
            s.stop()
        finally:
            xv.terminate()
            xv.wait(10)


def test_window_no_renderer():
    """a screen no renderer can draw on: each failed attempt said once, then headless"""
    need_tools()
    xv, display = start_xvfb_screen("1024x768x8")  # no renderer in SDL draws 8 bits deep
    try:
        port = fc.free_port()
        s = fc.sender("--size", "320x240", "--fps", "10", port=port, name="nor-send")
        fc.wait_listening(port)
        env = dict(os.environ, DISPLAY=display)
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("SDL_VIDEODRIVER", None)
        env.pop("SDL_RENDER_DRIVER", None)
        env["ASAN_OPTIONS"] = f"{os.environ.get('ASAN_OPTIONS', '')}:detect_leaks=0".lstrip(":")
        v = fc.Proc("nor-view", [os.path.join(fc.BIN, "freshcam-view"), f"127.0.0.1:{port}",
                                 "--seconds", "2"], env=env)
        rc = v.wait(30)
        out = v.output()
        line = next((l for l in out.splitlines() if "cannot open a window" in l), "")
        fc.check(rc == 0 and "running headless" in line,
                 f"the viewer runs headless (exit {rc}): '{line}'", v)
        fc.check(line.count("SDL's preferred renderer:") == 1
                 and line.count("software renderer:") == 1,
                 "it says each renderer that failed, once: SDL's preferred, then software", v)
        fc.check("shown" in out, "it streams anyway", v)
        s.stop()
    finally:
        xv.terminate()
        xv.wait(10)


def start_xvfb_screen(screen):
    try:
        return xvfb.start(screen)
    except RuntimeError as e:
        raise AssertionError(str(e))


if __name__ == "__main__":
    fc.main(test_window, test_window_rendition, test_window_fits_screen, test_window_no_renderer)
