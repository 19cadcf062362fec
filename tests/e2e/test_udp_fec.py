"""Forward error correction over the UDP transport (docs/UDP.md), through tools/linkemu: 40 ms
round trip, 5% random loss on the frames' way (seeded, so the same datagrams are lost on every
run). With a fixed parity count the viewer rebuilds frames from their parity; with --fec off no
parity comes; with --fec auto the viewer's LOSS reports make the sender send parity. Every
shown frame stays within the budget whatever comes (the stamp's true age). Needs root and
/dev/net/tun; without them it says "skipped: ..." and exits 77."""
import json
import os

import fc
import linkns

LINKEMU = os.path.join(fc.BIN, "tools", "linkemu", "linkemu")
PORT = 7373
SECONDS = 6


def stream(sender_extra):
    """One sender and one viewer over the lossy link: the viewer's last stats line."""
    path = os.path.join(fc.TMP, f"view-{'-'.join(sender_extra)}.jsonl")
    with linkns.Link(LINKEMU, a2b="rate=100mbit delay=20ms loss=5%", b2a="delay=20ms",
                     logdir=fc.TMP) as link:
        s = link.popen("a", [os.path.join(fc.BIN, "freshcam-send"), "--listen", str(PORT),
                             "--size", "640x480", "--fps", "30", "--insecure", "--quiet",
                             "--transport", "udp", *sender_extra], "send")
        link.wait_listening("a", PORT)
        v = link.popen("b", [os.path.join(fc.BIN, "freshcam-view"), "--headless", "--quiet",
                             f"{link.addr('a')}:{PORT}", "--transport", "udp", "--seconds",
                             str(SECONDS), "--check-stamps", "--stats-json", path], "view")
        v.wait(SECONDS + 20)
        s.stop()
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.startswith("{")]
    last = next((line for line in reversed(lines) if line.get("summary")), lines[-1] if lines else {})
    return last, last.get("udp", {})


def test_fixed_parity_rebuilds():
    """--fec 10: frames that lost chunks are rebuilt from their parity, none shown late"""
    sm, udp = stream(["--fec", "10"])
    fc.check(sm.get("shown", 0) > 0 and udp.get("frames_rebuilt", 0) > 0
             and udp.get("chunks_rebuilt", 0) >= udp.get("frames_rebuilt", 0)
             and sm.get("stamp_over_budget", 1) == 0 and udp.get("refused", {}).get("invalid") == 0,
             f"--fec 10 at 5% loss: {sm.get('shown')} shown, {udp.get('frames_rebuilt')} frames "
             f"rebuilt ({udp.get('chunks_rebuilt')} chunks), {sm.get('stamp_over_budget')} "
             f"over budget")


def test_off_sends_no_parity():
    """--fec off: no parity chunk comes, nothing is rebuilt, losses are given up"""
    sm, udp = stream(["--fec", "off"])
    fc.check(sm.get("shown", 0) > 0 and udp.get("parity_chunks", 1) == 0
             and udp.get("frames_rebuilt", 1) == 0 and udp.get("given_up_late", 0) > 0
             and sm.get("stamp_over_budget", 1) == 0,
             f"--fec off at 5% loss: {sm.get('shown')} shown, {udp.get('parity_chunks')} parity, "
             f"{udp.get('given_up_late')} given up")


def test_auto_follows_the_loss():
    """--fec auto: the viewer's LOSS reports make the sender send parity, which rebuilds frames"""
    sm, udp = stream(["--fec", "auto"])
    fc.check(sm.get("shown", 0) > 0 and udp.get("frames_rebuilt", 0) > 0
             and sm.get("stamp_over_budget", 1) == 0,
             f"--fec auto at 5% loss: {sm.get('shown')} shown, {udp.get('parity_chunks')} parity "
             f"taken, {udp.get('frames_rebuilt')} frames rebuilt")


if __name__ == "__main__":
    why = linkns.unavailable(LINKEMU)
    if why:
        fc.skip_all(why)
    fc.main(test_fixed_parity_rebuilds, test_off_sends_no_parity, test_auto_follows_the_loss)
