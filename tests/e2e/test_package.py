"""End to end: the Debian package that tools/package makes from this tree. Its file list
(programs, man pages, units, completion, docs, copyright), its control data (the project's
version, dependencies found by dpkg-shlibdeps), lintian with no error and no warning, the units
through systemd-analyze verify, the maintainer scripts (the system user in the video group,
nothing deleted), and the programs unpacked with dpkg -x running --version and stopping on
SIGTERM within the unit's TimeoutStopSec.

Slow (a Release build of its own), so it runs only when asked: FC_TEST_PACKAGE=1, which
tools/check sets for the plain gcc build; elsewhere it exits 77 (skipped)."""
import glob
import os
import re
import shutil
import signal
import subprocess
import time

import fc

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT = "lib/systemd/system/freshcam-send@.service"
RECORD_UNIT = "lib/systemd/system/freshcam-record@.service"
WANT = ["usr/bin/freshcam-send", "usr/bin/freshcam-view",
        "usr/share/man/man1/freshcam-send.1.gz", "usr/share/man/man1/freshcam-view.1.gz",
        "usr/" + UNIT, "usr/" + RECORD_UNIT, "etc/freshcam/send-video0.conf",
        "usr/share/doc/freshcam/examples/record.conf",
        "usr/share/doc/freshcam/examples/nginx-freshcam.conf",
        "usr/share/bash-completion/completions/freshcam-send",
        "usr/share/bash-completion/completions/freshcam-view",
        "usr/share/doc/freshcam/README.md", "usr/share/doc/freshcam/PROTOCOL.md",
        "usr/share/doc/freshcam/DESIGN.md", "usr/share/doc/freshcam/STATS_JSON.md",
        "usr/share/doc/freshcam/copyright", "usr/share/doc/freshcam/changelog.gz"]
_deb = []


def deb():
    """The package, made once by tools/package (its own build in build/package)."""
    if _deb:
        return _deb[0]
    p = subprocess.run([os.path.join(ROOT, "tools", "package")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    debs = [l for l in p.stdout.splitlines() if l.endswith(".deb") and os.path.exists(l)]
    assert p.returncode == 0 and len(debs) == 1, f"tools/package failed:\n{p.stdout}"
    _deb.append(debs[0])
    return debs[0]


def unpacked():
    root = os.path.join(fc.TMP, "root")
    if not os.path.isdir(root):
        subprocess.run(["dpkg-deb", "-x", deb(), root], check=True, timeout=60)
    return root


def test_files_and_control():
    """the package holds the programs, man pages, unit, config, completion and docs, under the
    project's version, with its library dependencies computed"""
    out = subprocess.run(["dpkg-deb", "-c", deb()], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    files = {l.split()[5].lstrip("./").split(" -> ")[0] for l in out.splitlines()}
    missing = [w for w in WANT if w not in files]
    fc.check(not missing, f"the package has every file ({missing} missing)")
    fc.check(not [f for f in files if "fakecam" in f or "lagproxy" in f or "linkemu" in f],
             "no test tools in the package")

    def field(name):
        return subprocess.run(["dpkg-deb", "-f", deb(), name], stdout=subprocess.PIPE,
                              text=True, check=True).stdout.strip()
    version = fc._cache("CMAKE_PROJECT_VERSION")
    fc.check(field("Version") == version and field("Package") == "freshcam",
             f"freshcam {field('Version')}, the project's version {version}")
    deps = field("Depends")
    fc.check(all(d in deps for d in ("adduser", "libc6", "libsodium", "libturbojpeg",
                                     "libsdl2", "libavformat")),
             f"dependencies from dpkg-shlibdeps, and adduser ({deps})")
    conf = subprocess.run(["dpkg-deb", "-I", deb(), "conffiles"], stdout=subprocess.PIPE,
                          text=True).stdout.split()
    fc.check(conf == ["/etc/freshcam/send-video0.conf"], f"the example config is a conffile ({conf})")


def test_lintian():
    """lintian finds no error and no warning"""
    p = subprocess.run(["lintian", "--no-tag-display-limit", deb()], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    bad = [l for l in p.stdout.splitlines() if re.match(r"[EW]: ", l)]
    fc.check(not bad, f"lintian: {bad}")


def verify(root, unit_path):
    """systemd-analyze verify on an instance of a unit of the unpacked package (its program's
    path pointed into it: verify checks that the program exists); returns the unit's text."""
    with open(os.path.join(root, "usr", unit_path)) as f:
        unit = f.read()
    d = os.path.join(fc.TMP, "units")
    os.makedirs(d, exist_ok=True)
    name = os.path.basename(unit_path)
    with open(os.path.join(d, name), "w") as f:
        f.write(unit.replace("ExecStart=/usr/bin/", f"ExecStart={root}/usr/bin/"))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        os.path.join(d, name.replace("@", "@cam1"))], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60, cwd=d)
    fc.check(p.returncode == 0 and not p.stdout.strip(),
             f"systemd-analyze verify {name}: {p.stdout!r}")
    return unit


def test_units_verify():
    """both units pass systemd-analyze verify and carry the hardening and restart they promise"""
    root = unpacked()
    common = ("User=freshcam", "Restart=on-failure", "ProtectSystem=strict", "ProtectHome=yes",
              "PrivateTmp=yes", "CapabilityBoundingSet=\n", "NoNewPrivileges=yes",
              "RestrictAddressFamilies=", "TimeoutStopSec=")
    send = verify(root, UNIT)
    for want in common + ("SupplementaryGroups=video", "DevicePolicy=closed",
                          "DeviceAllow=/dev/%I rw", "--stats-every 60",
                          "EnvironmentFile=-/etc/freshcam/send-%i.conf"):
        fc.check(want in send, f"the sender's unit has {want.strip()}")
    record = verify(root, RECORD_UNIT)
    for want in common + ("PrivateDevices=yes", "StateDirectory=freshcam/recordings/%i",
                          "--record %S/freshcam/recordings/%i/ --segment 600",
                          "EnvironmentFile=/etc/freshcam/record-%i.conf"):
        fc.check(want in record, f"the recorder's unit has {want.strip()}")


def test_maintainer_scripts():
    """postinst makes the system user freshcam in the video group once (adduser, played here by
    a stub that records its arguments); no script deletes anything"""
    ctl = os.path.join(fc.TMP, "control")
    subprocess.run(["dpkg-deb", "-e", deb(), ctl], check=True)
    for name in ("postinst", "prerm", "postrm"):
        path = os.path.join(ctl, name)
        fc.check(subprocess.run(["sh", "-n", path]).returncode == 0, f"{name} parses")
        with open(path) as f:
            body = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))
        fc.check(not re.search(r"\b(rm|deluser|userdel|find)\b", body),
                 f"{name} deletes nothing")
    stubs = os.path.join(fc.TMP, "stubs")
    os.makedirs(stubs)
    log = os.path.join(fc.TMP, "adduser.log")
    for name, script in (("adduser", f'echo "$*" >> {log}'),
                         ("getent", '[ -n "$FC_USER_EXISTS" ]'), ("systemctl", "exit 0")):
        with open(os.path.join(stubs, name), "w") as f:
            f.write(f"#!/bin/sh\n{script}\n")
        os.chmod(os.path.join(stubs, name), 0o755)
    env = dict(os.environ, PATH=f"{stubs}:/usr/bin:/bin")
    rc = subprocess.run([os.path.join(ctl, "postinst"), "configure"], env=env).returncode
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    fc.check(rc == 0 and len(calls) == 1 and "--system" in calls[0]
             and "--ingroup video" in calls[0] and calls[0].endswith(" freshcam"),
             f"postinst configure: adduser {calls}")
    env["FC_USER_EXISTS"] = "1"
    rc = subprocess.run([os.path.join(ctl, "postinst"), "configure"], env=env).returncode
    calls = open(log).read().splitlines()
    fc.check(rc == 0 and len(calls) == 1, "postinst again: the user exists, no second adduser")


def test_unpacked_programs_run():
    """the unpacked programs print the version (they link only system libraries); the sender and
    a recorder stop on SIGTERM with their summary (the recorder its segment finished), well
    within their unit's TimeoutStopSec"""
    root = unpacked()
    version = fc._cache("CMAKE_PROJECT_VERSION")
    for prog in ("freshcam-send", "freshcam-view"):
        rc, out = fc.run([os.path.join(root, "usr", "bin", prog), "--version"])
        fc.check(rc == 0 and out.startswith(f"{prog} {version} "), f"unpacked {prog}: {out!r}")
    port = fc.free_port()
    s = fc.Proc("pkg-send", [os.path.join(root, "usr", "bin", "freshcam-send"), "--listen",
                             f"127.0.0.1:{port}", "--stats-every", "60"])
    fc.wait_listening(port)
    rec = os.path.join(fc.TMP, "pkg-rec")
    v = fc.Proc("pkg-record", [os.path.join(root, "usr", "bin", "freshcam-view"), "--headless",
                               "--quiet", "--record", rec + "/", "--segment", "600",
                               f"127.0.0.1:{port}"])
    time.sleep(2)
    stop_within_unit_timeout(v, RECORD_UNIT, "the recorder")
    segs = glob.glob(os.path.join(rec, "*Z.mkv"))
    fc.check(len(segs) == 1 and "recording:" in v.output(), f"the recorder's segment ({segs})", v)
    if segs and shutil.which("ffprobe"):
        rc, out = fc.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", segs[0]])
        fc.check(rc == 0 and 1.0 < float(out.strip() or 0) < 4.0,
                 f"finished with its trailer: duration {out.strip()} s for about 2 s", v)
    stop_within_unit_timeout(s, UNIT, "the sender")


def stop_within_unit_timeout(proc, unit_path, what):
    """SIGTERM, as systemd stops a unit: exit 0 with the summary, within half the unit's
    TimeoutStopSec (after which systemd would kill it)."""
    with open(os.path.join(unpacked(), "usr", unit_path)) as f:
        timeout = int(re.search(r"^TimeoutStopSec=(\d+)$", f.read(), re.M).group(1))
    t0 = time.monotonic()
    rc = proc.stop(signal.SIGTERM, timeout=timeout)
    took = time.monotonic() - t0
    fc.check(rc == 0 and "terminated" in proc.output() and "summary:" in proc.output(),
             f"SIGTERM: {what} exits 0 after its summary", proc)
    fc.check_speed(took < timeout / 2, f"{what} stopped in {took:.2f} s (TimeoutStopSec="
                   f"{timeout})", proc)


if __name__ == "__main__":
    if os.environ.get("FC_TEST_PACKAGE") != "1":
        fc.skip_all("the package test builds a package of its own (slow): FC_TEST_PACKAGE=1 "
                    "asks for it (tools/check does, in the plain build)")
    missing = [t for t in ("dpkg-deb", "lintian", "systemd-analyze") if not shutil.which(t)]
    if missing:
        fc.skip_all(f"{', '.join(missing)} missing (apt-get install dpkg lintian systemd)")
    fc.main(test_files_and_control, test_lintian, test_units_verify, test_maintainer_scripts,
            test_unpacked_programs_run)
