"""tools/linkemu against what it was asked, measured from outside with ping and iperf3 between two
network namespaces (tests/e2e/linkns.py): the round trip, random and bursty loss, the rate (TCP
and UDP), the bound the queue puts on the delay under load, changes while running, and the
delay linkemu adds of its own.

Every random choice is seeded, and only ping crosses the link in the loss tests, so their counts
are the same on every run. Needs root, /dev/net/tun, ping, iperf3 and ss; without them it says
"skipped: ..." and exits 77."""
import ast
import json
import os
import re
import statistics
import threading
import time

import fc
import linkns

LINKEMU = os.path.join(fc.BIN, "tools", "linkemu", "linkemu")
IPERF_PORT = 5201
# Goodput per bit of IP packet: TCP with timestamps carries 1448 bytes in 1500, UDP 1472.
TCP_SHARE = 1448 / 1500
UDP_SHARE = 1472 / 1500


def link(**kw):
    return linkns.Link(LINKEMU, logdir=fc.TMP, **kw)


def ping(l, count, interval, end="a", timeout=30):
    """ping from end to the other: ({icmp_seq: rtt ms}, packets sent, ping's output)."""
    other = "b" if end == "a" else "a"
    rc, out = l.run(end, ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "0.5",
                          l.addr(other)], timeout=timeout)
    rtts = {int(m.group(1)): float(m.group(2))
            for m in re.finditer(r"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms", out)}
    m = re.search(r"(\d+) packets transmitted", out)
    return rtts, int(m.group(1)) if m else 0, out


def lost_runs(rtts, sent):
    """The lengths of the runs of consecutive lost pings (icmp_seq 1..sent)."""
    runs, run = [], 0
    for seq in range(1, sent + 1):
        if seq in rtts:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    return runs + ([run] if run else [])


def iperf_server(l, *args):
    """An iperf3 server in b, listening when this returns."""
    server = l.popen("b", ["iperf3", "-s", "-B", l.addr("b"), "-p", str(IPERF_PORT), *args],
                     "iperf3-s")
    l.wait_listening("b", IPERF_PORT)
    return server


def iperf(l, *args, seconds=3):
    """iperf3 from a to b (a server started on b for the run): its JSON report."""
    server = iperf_server(l)
    try:
        return l.run_json("a", ["iperf3", "-c", l.addr("b"), "-p", str(IPERF_PORT), "-t",
                                str(seconds), "-J", *args], timeout=seconds + 15)
    finally:
        server.kill()


def late(st):
    """linkemu's own timing error, both ways: (mean, max) in ms."""
    return ((st["a2b"]["late_us_mean"] + st["b2a"]["late_us_mean"]) / 1e3,
            (st["a2b"]["late_us_max"] + st["b2a"]["late_us_max"]) / 1e3)


def within(value, want, share):
    return abs(value - want) <= want * share


def test_round_trip():
    """20 ms each way: ping's round trip is 40 ms, none lost: the mean within 1.5% once the
    lateness linkemu measured of its own is taken off (a busy host's share), the median within
    3% as it is"""
    with link(link="delay=20ms") as l:
        rtts, sent, out = ping(l, 200, 0.01)
        st = l.stop()
    v = sorted(rtts.values())
    mean, med = statistics.mean(v), statistics.median(v)
    late_mean, late_max = late(st)
    fc.check(len(v) == sent == 200 and v[0] >= 40 and within(med, 40, 0.03)
             and within(mean - late_mean, 40, 0.015),
             f"round trip: mean {mean:.2f} ms, median {med:.2f}, min {v[0]:.2f}, p99 "
             f"{v[-3]:.2f}, max {v[-1]:.2f} over {len(v)}/{sent} pings (asked 40); linkemu was "
             f"late by {late_mean:.3f} ms on average, {late_max:.1f} at most, both ways")


def test_own_delay():
    """unshaped, linkemu adds a fraction of a millisecond of its own, idle and while it carries
    200 Mbit/s of TCP; unpaced TCP through it goes far faster than that"""
    with link() as l:
        idle, _, _ = ping(l, 200, 0.005)
        fast = iperf(l, seconds=2)
        server = iperf_server(l)
        load = l.popen("a", ["iperf3", "-c", l.addr("b"), "-p", str(IPERF_PORT), "-b", "200M",
                             "-l", "16K", "-t", "3", "-J"], "iperf3-c")
        time.sleep(0.5)
        busy, _, _ = ping(l, 300, 0.005, end="b")
        load.wait(15)
        server.kill()
        paced = json.loads(load.output())
    top = fast["end"]["sum_received"]["bits_per_second"] / 1e6
    got = paced["end"]["sum_received"]["bits_per_second"] / 1e6
    fc.check(top > 400, f"own delay: unpaced TCP goes at {top:.0f} Mbit/s through linkemu")
    fc.check(got > 195, f"own delay: the paced load is {got:.0f} Mbit/s of TCP payload")
    for name, rtts in (("idle", idle), ("carrying 200 Mbit/s", busy)):
        v = sorted(rtts.values())
        # The median, since a wake-up from idle on a busy host has outliers of milliseconds
        # that are the host's, not linkemu's (the README has the figures).
        fc.check(len(v) >= 0.99 * (200 if name == "idle" else 300)
                 and statistics.median(v) < 0.3 and v[int(len(v) * 0.9) - 1] < 1.0,
                 f"own delay {name}: round trip median {statistics.median(v):.3f} ms, mean "
                 f"{statistics.mean(v):.3f}, p99 {v[int(len(v) * 0.99) - 1]:.3f} ({len(v)} pings)")


def in_parallel(*fns):
    """Runs the functions at once (each its own link); their results, in order."""
    results = [None] * len(fns)
    errors = []

    def run(i, fn):
        try:
            results[i] = fn()
        except Exception as e:  # reported below, in this thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a parallel run did not finish in 60 s"
    if errors:
        raise errors[0]
    return results


def lossy_pings(spec, count, interval, seed=1):
    """count pings through a link lossy one way (a2b): (ping replies, sent, linkemu's counters)."""
    def run():
        with link(a2b=spec, seed=seed) as l:
            rtts, sent, _ = ping(l, count, interval)
            return rtts, sent, l.stop()
    return run


def test_random_loss():
    """loss=5% one way over 400 pings: within the binomial's 3 sigma, counted by linkemu, and the
    same pings lost on a second link with the same seed"""
    (r1, s1, st1), (r2, s2, _) = in_parallel(lossy_pings("loss=5%", 400, 0.005),
                                             lossy_pings("loss=5%", 400, 0.005))
    lost = s1 - len(r1)
    sigma = (400 * 0.05 * 0.95) ** 0.5
    fc.check(s1 == 400 and abs(lost - 20) <= 3 * sigma,
             f"random loss: {lost} of {s1} pings lost (20 expected, 3 sigma {3 * sigma:.0f})")
    fc.check(st1["a2b"]["dropped_loss"] == lost and st1["b2a"]["dropped_loss"] == 0,
             f"random loss: linkemu counted the same ({st1['a2b']['dropped_loss']} dropped_loss)")
    fc.check(set(r1) == set(r2) and s1 == s2,
             f"random loss: the same seed loses the same pings "
             f"({sorted(set(range(1, s1 + 1)) - set(r1))[:8]}... and "
             f"{sorted(set(range(1, s2 + 1)) - set(r2))[:8]}...)")


def test_bursty_loss():
    """Gilbert-Elliott (ge=1%,20%: 4.8% lost in bursts of 5 on average) loses in longer runs
    than random loss of the same average"""
    (rg, sg, _), (rr, sr, _) = in_parallel(lossy_pings("ge=1%,20%", 2000, 0.001),
                                           lossy_pings("loss=4.76%", 2000, 0.001))
    ge, rnd = lost_runs(rg, sg), lost_runs(rr, sr)
    ge_mean = statistics.mean(ge) if ge else 0
    rnd_mean = statistics.mean(rnd) if rnd else 0
    say = (f"Gilbert-Elliott lost {sum(ge)} of {sg} in {len(ge)} runs (mean {ge_mean:.2f}, "
           f"longest {max(ge, default=0)}); random lost {sum(rnd)} of {sr} in {len(rnd)} runs "
           f"(mean {rnd_mean:.2f}, longest {max(rnd, default=0)})")
    fc.check(sg == sr == 2000 and 0.025 < sum(ge) / sg < 0.075 and 0.025 < sum(rnd) / sr < 0.075,
             f"bursty loss: both lose about 4.8%: {say}")
    fc.check(ge_mean >= 2.5 and rnd_mean <= 1.5 and ge_mean > 2 * rnd_mean,
             f"bursty loss: the runs are longer: {say}")


def test_rate():
    """rate=20mbit: iperf3's TCP and UDP goodput are 20 Mbit/s less the headers, within 3%"""
    with link(a2b="rate=20mbit") as l:
        tcp = iperf(l, seconds=3)
        udp = iperf(l, "-u", "-b", "30M", "-l", "1472", seconds=2)
        st = l.stop()
    got_tcp = tcp["end"]["sum_received"]["bits_per_second"] / 1e6
    got_udp = udp["end"]["sum_received"]["bits_per_second"] / 1e6
    fc.check(within(got_tcp, 20 * TCP_SHARE, 0.03),
             f"rate: TCP {got_tcp:.2f} Mbit/s received (20 Mbit/s of packets is "
             f"{20 * TCP_SHARE:.2f} of TCP payload)")
    fc.check(within(got_udp, 20 * UDP_SHARE, 0.03),
             f"rate: UDP {got_udp:.2f} Mbit/s received of 30 sent ({20 * UDP_SHARE:.2f} "
             f"expected; linkemu dropped {st['a2b']['dropped_queue']} at the full queue)")


def test_queue_bound():
    """rate=10mbit queue=50ms under a UDP flood of twice the rate: ping's round trip is the
    delay plus a full queue and no more (20 + 50 ms + a packet's time), but for linkemu's own
    measured lateness"""
    with link(a2b="rate=10mbit delay=10ms queue=50ms", b2a="delay=10ms") as l:
        server = iperf_server(l)
        flood = l.popen("a", ["iperf3", "-c", l.addr("b"), "-p", str(IPERF_PORT), "-u", "-b",
                              "20M", "-l", "1472", "-t", "3"], "iperf3-c")
        time.sleep(0.7)
        rtts, sent, _ = ping(l, 40, 0.05)
        flood.wait(10)
        server.kill()
        st = l.stop()
    v = sorted(rtts.values())
    bound = 20 + 50 + 1500 * 8 / 10e6 * 1e3 + 1  # + one packet's serialization, + 1 ms
    late_mean, late_max = late(st)
    fc.check(len(v) >= 30 and v[int(len(v) * 0.9) - 1] <= bound
             and v[-1] <= bound + late_max and statistics.median(v) >= 60,
             f"queue bound: round trip under load median {statistics.median(v):.1f} ms, p90 "
             f"{v[int(len(v) * 0.9) - 1]:.1f}, max {v[-1]:.1f} (bound {bound:.1f}, + "
             f"{late_max:.1f} of linkemu's lateness at most; {len(v)}/{sent} pings answered; "
             f"{st['a2b']['dropped_queue']} dropped at the queue, peak "
             f"{st['a2b']['queue_peak_bytes']} bytes of 62500)")
    fc.check(st["a2b"]["dropped_queue"] > 0 and st["a2b"]["queue_peak_bytes"] <= 62500,
             "queue bound: the queue filled, to its limit and no further")


def test_rate_step():
    """50 Mbit/s, stepped down to 5 and back through the control socket during a UDP stream:
    the receiver sees each rate within 5% (less the headers)"""
    with link(a2b="rate=50mbit queue=50ms") as l:
        server = iperf_server(l, "-J", "-1", "-i", "0.5")
        client = l.popen("a", ["iperf3", "-c", l.addr("b"), "-p", str(IPERF_PORT), "-u", "-b",
                               "60M", "-l", "1472", "-t", "5"], "iperf3-c")
        t0 = time.monotonic()
        for at, spec in ((1.5, "rate=5mbit"), (3.5, "rate=50mbit")):
            time.sleep(max(0, t0 + at - time.monotonic()))
            l.set("a2b", spec)
        client.wait(15)
        server.wait(10)
        report = json.loads(server.output())
    rates = [i["sum"]["bits_per_second"] / 1e6 for i in report["intervals"]]
    # Half-second intervals, as the server counts them: 0-1.5 s at 50, 1.5-3.5 at 5, then 50.
    # Those next to a step are left out: the server's clock starts a little after ours, and the
    # queue filled at 50 Mbit/s takes half a second to drain at 5.
    want = [50, 50, None, None, 5, 5, None, None, 50, 50]
    ok = len(rates) >= 10 and all(w is None or within(r, w * UDP_SHARE, 0.05)
                                  for r, w in zip(rates, want))
    fc.check(ok, f"rate step: receiver's Mbit/s per half second {[round(r, 2) for r in rates]} "
                 f"(asked {want}, less {100 - UDP_SHARE * 100:.1f}% of headers)")


def test_schedule():
    """--at '1s a2b delay=30ms': the round trip goes from 20 to 40 ms a second after start"""
    with link(link="delay=10ms", extra=["--at", "1s a2b delay=30ms"]) as l:
        rtts, sent, _ = ping(l, 100, 0.02)
        said = l.output()
    first = [rtts[s] for s in range(1, 31) if s in rtts]
    last = [rtts[s] for s in range(71, 101) if s in rtts]
    before = statistics.median(first) if first else 0
    after = statistics.median(last) if last else 0
    fc.check(len(first) == len(last) == 30 and within(before, 20, 0.05)
             and within(after, 40, 0.05) and "a2b now delay=30ms" in said,
             f"schedule: round trip median {before:.2f} ms before, {after:.2f} after")


# Receives COUNT datagrams of 200 bytes on port 9 (or stops 1.5 s after the last), prints how
# many came as sent, changed in one byte, cut short, or otherwise: the kernel's own checksum
# check has passed each of them, or it would not be here.
UDP_RECEIVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9))
s.settimeout(3)
n = int(sys.argv[2]); got = {"same": 0, "one_byte": 0, "shorter": 0, "other": 0}
for _ in range(n):
    try:
        d = s.recv(2048)
    except socket.timeout:
        break
    s.settimeout(1.5)
    if len(d) < 2:  # cut before its number: shorter, whichever it was
        got["shorter"] += 1
        continue
    k = d[0] | d[1] << 8
    want = bytes([k & 255, k >> 8]) + bytes((k + i) & 255 for i in range(198))
    diff = sum(a != b for a, b in zip(d, want))
    got["same" if d == want else "one_byte" if len(d) == 200 and diff == 1
        else "shorter" if len(d) < 200 and d == want[:len(d)] else "other"] += 1
print(got)
"""
UDP_SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(int(sys.argv[2])):
    s.sendto(bytes([k & 255, k >> 8]) + bytes((k + i) & 255 for i in range(198)), (sys.argv[1], 9))
    time.sleep(0.001)
"""


def test_corrupt_truncate():
    """corrupt=20% truncate=20%: UDP datagrams reach the application changed in one byte or cut
    short (the checksums made right); TCP crosses the same link intact"""
    count = 1000
    with link(a2b="corrupt=20% truncate=20%") as l:
        recv = l.popen("b", ["python3", "-c", UDP_RECEIVER, l.addr("b"), str(count)], "udp-recv")
        time.sleep(0.3)
        l.run("a", ["python3", "-c", UDP_SENDER, l.addr("b"), str(count)], timeout=20)
        recv.wait(10)
        got = ast.literal_eval(recv.output().strip().splitlines()[-1])
        st = l.stats()["a2b"]
        tcp = iperf(l, seconds=1)
        snmp = l.run("b", ["cat", "/proc/net/snmp"])[1]
    errs = [line for line in snmp.splitlines() if line.startswith("Udp:")]
    csum_errors = int(errs[1].split()[errs[0].split().index("InCsumErrors")]) if len(errs) == 2 else -1
    # A datagram both corrupted and cut short counts once as shorter or other: the byte may
    # have been cut off.
    fc.check(sum(got.values()) == count and got["one_byte"] + got["other"] >= 100
             and got["shorter"] + got["other"] >= 100 and got["same"] >= 0.5 * count
             and st["corrupted"] >= 150 and st["truncated"] >= 150 and csum_errors == 0,
             f"corrupt/truncate: the receiver got {got} of {count}; linkemu counted "
             f"{st['corrupted']} corrupted, {st['truncated']} truncated; UDP checksum errors "
             f"in b: {csum_errors}")
    got_tcp = tcp["end"].get("sum_received", {}).get("bytes", 0)
    retr = tcp["end"].get("sum_sent", {}).get("retransmits", -1)
    # That no TCP segment is edited is test_edit.c's; here, that TCP still flows (its
    # retransmissions are shown only: an unshaped link may overflow the TUN ring under load).
    fc.check(got_tcp >= 1e6, f"corrupt/truncate: TCP beside it carried {got_tcp} bytes in a "
             f"second ({retr} retransmissions)")


if __name__ == "__main__":
    why = linkns.unavailable(LINKEMU)
    gone = linkns.missing("ping", "iperf3", "ss")
    if why or gone:
        fc.skip_all(why or 'no ' + ', '.join(gone) + ' (apt-get install iputils-ping iperf3 iproute2)')
    fc.main(test_round_trip, test_own_delay, test_random_loss, test_bursty_loss, test_rate,
            test_queue_bound, test_rate_step, test_schedule, test_corrupt_truncate)
