"""An X server for the window's tests and benchmarks: Xvfb on a display number it picks itself
(-displayfd), so that runs never collide on one. Standard library only."""
import os
import subprocess
import time


def start(screen="1024x768x24"):
    """Starts Xvfb; returns (process, ":N"). Raises RuntimeError if it does not come up."""
    r, w = os.pipe()
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", screen, "-nolisten",
                          "tcp", "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(w)
    end = time.monotonic() + 10
    num = b""
    while time.monotonic() < end and not num.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            break
        num += chunk
    os.close(r)
    if not num.strip().isdigit():
        p.kill()
        p.wait()
        raise RuntimeError("Xvfb did not start")
    return p, ":" + num.decode().strip()
