"""bench/benchlib.py: what the benchmark scripts share (standard library only): CPU time and peak
memory of a process from /proc, free ports, waiting for a listener, medians, the machine."""
import os
import platform
import socket
import statistics
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid, skip_threads=()):
    """utime + stime of the process, less the threads named in skip_threads (the fake camera's
    producer thread runs inside whichever program opens it and is no part of its cost)."""
    if not skip_threads:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
        except FileNotFoundError:
            continue
        if head.split("(", 1)[1] in skip_threads:
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def cpu_of(pids):
    """Total CPU seconds of several processes (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_exact_of(pids):
    """Total CPU seconds of several processes from each thread's scheduler runtime
    (/proc/PID/task/TID/schedstat, nanoseconds), where cpu_of's utime and stime are sampled
    once a clock tick (10 ms): a window of a few seconds at 30 fps holds only some tens of ticks,
    too few to tell 5% apart. Threads that ended are not counted: for windows over which the
    processes keep their threads (0 for a process that is gone)."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total / 1e9


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wait_listening(port, timeout=5):
    """Waits until something listens on 127.0.0.1:port without connecting to it (a connection
    would be taken as the stream's by a one-shot server such as tcpserversrc)."""
    hexport = f"{port:04X}"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if local.endswith(":" + hexport) and state == "0A":
                    return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def stop(procs, timeout=5):
    """Terminates, then kills what is left; bounded in time."""
    for p in procs:
        if p and p.poll() is None:
            p.terminate()
    end = time.monotonic() + timeout
    for p in procs:
        if not p:
            continue
        try:
            p.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def quantile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    distro = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except FileNotFoundError:
        pass
    return (f"{platform.machine()} {model}, {os.cpu_count()} cores (a shared VM), {distro}, "
            f"kernel {platform.release()}")


def update_doc(path, text, begin, end):
    """Replaces what lies between the markers begin and end in the document at path with text
    (a benchmark's section of docs/BENCHMARKS.md); exits with a message when a marker is missing."""
    with open(path) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{path} has no {begin} ... {end} section to update")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + text + "\n" + end + tail)
