"""End to end: the Debian package that tools/package makes from this tree. Its file list
(programs, man pages, unit, completion, docs, copyright), its control data (the project's
version, dependencies found by dpkg-shlibdeps), lintian with no error and no warning, the unit
through systemd-analyze verify, the maintainer scripts (the system user in the video group,
nothing deleted), and the programs unpacked with dpkg -x running --version and stopping on
SIGTERM within the unit's TimeoutStopSec.

Slow (a Release build of its own), so it runs only when asked: FC_TEST_PACKAGE=1, which
tools/check sets for the plain gcc build; elsewhere it exits 77 (skipped)."""
import os
import re
import shutil
import signal
import subprocess
import time

import fc

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT = "lib/systemd/system/freshcam-send@.service"
WANT = ["usr/bin/freshcam-send", "usr/bin/freshcam-view",
        "usr/share/man/man1/freshcam-send.1.gz", "usr/share/man/man1/freshcam-view.1.gz",
        "usr/" + UNIT, "etc/freshcam/send-video0.conf",
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


def test_unit_verifies():
    """systemd-analyze verify passes the unit as installed (its program's path pointed into the
    unpacked package: verify checks that the program exists)"""
    root = unpacked()
    with open(os.path.join(root, "usr", UNIT)) as f:
        unit = f.read()
    for want in ("User=freshcam", "SupplementaryGroups=video", "Restart=on-failure",
                 "DeviceAllow=/dev/%I rw", "DevicePolicy=closed", "ProtectSystem=strict",
                 "CapabilityBoundingSet=\n", "NoNewPrivileges=yes", "--stats-every 60",
                 "EnvironmentFile=-/etc/freshcam/send-%i.conf"):
        fc.check(want in unit, f"the unit has {want.strip()}")
    d = os.path.join(fc.TMP, "units")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "freshcam-send@.service"), "w") as f:
        f.write(unit.replace("ExecStart=/usr/bin/", f"ExecStart={root}/usr/bin/"))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        os.path.join(d, "freshcam-send@video0.service")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60, cwd=d)
    fc.check(p.returncode == 0 and not p.stdout.strip(), f"systemd-analyze verify: {p.stdout!r}")


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
    """the unpacked programs print the version (they link only system libraries) and the
    sender stops on SIGTERM with its summary, well within the unit's TimeoutStopSec"""
    root = unpacked()
    version = fc._cache("CMAKE_PROJECT_VERSION")
    for prog in ("freshcam-send", "freshcam-view"):
        rc, out = fc.run([os.path.join(root, "usr", "bin", prog), "--version"])
        fc.check(rc == 0 and out.startswith(f"{prog} {version} "), f"unpacked {prog}: {out!r}")
    with open(os.path.join(root, "usr", UNIT)) as f:
        timeout = int(re.search(r"^TimeoutStopSec=(\d+)$", f.read(), re.M).group(1))
    port = fc.free_port()
    s = fc.Proc("pkg-send", [os.path.join(root, "usr", "bin", "freshcam-send"), "--listen",
                             f"127.0.0.1:{port}", "--stats-every", "60"])
    fc.wait_listening(port)
    v = fc.viewer(port, "--seconds", "2", json=False)
    v.wait(20)
    t0 = time.monotonic()
    rc = s.stop(signal.SIGTERM, timeout=timeout)
    took = time.monotonic() - t0
    fc.check(rc == 0 and "terminated: stopping" in s.output() and "summary:" in s.output(),
             "SIGTERM: exit 0 after the summary", s)
    fc.check_speed(took < timeout / 2, f"stopped in {took:.2f} s (TimeoutStopSec={timeout})", s)


if __name__ == "__main__":
    if os.environ.get("FC_TEST_PACKAGE") != "1":
        fc.skip_all("the package test builds a package of its own (slow): FC_TEST_PACKAGE=1 "
                    "asks for it (tools/check does, in the plain build)")
    missing = [t for t in ("dpkg-deb", "lintian", "systemd-analyze") if not shutil.which(t)]
    if missing:
        fc.skip_all(f"{', '.join(missing)} missing (apt-get install dpkg lintian systemd)")
    fc.main(test_files_and_control, test_lintian, test_unit_verifies, test_maintainer_scripts,
            test_unpacked_programs_run)
