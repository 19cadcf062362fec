"""End to end: the man pages made at build time (tools/manpage, man/*.1.in) render without a
warning and carry every option and example that each program's --help lists, so that the page
cannot drift from the program."""
import os
import re
import shutil
import subprocess

import fc

PROGRAMS = ("freshcam-send", "freshcam-view")


def help_options(prog):
    """The long options --help lists (each option line's own, "  -d, --device PATH ..."), and
    the whole text."""
    rc, out = fc.run([os.path.join(fc.BIN, prog), "--help"])
    assert rc == 0, f"{prog} --help exited {rc}"
    opts = {m.group(1) for m in (re.match(r"\s+(?:-\w, )?(--[a-z][a-z-]*)", l)
                                 for l in out.splitlines()) if m}
    return opts, out


def page(prog):
    path = os.path.join(fc.BIN, "man", f"{prog}.1")
    if not os.path.exists(path):
        raise AssertionError(f"no man page {path}: the build makes it (target manpages)")
    return path


def rendered(path):
    """The page as man shows it on an 80-column terminal, and what man said on stderr."""
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "-l", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=30)
    # Bold and underline as overstrikes, and the hyphens groff may print as U+2010.
    text = re.sub(r".\x08", "", p.stdout).replace("\u2010", "-").replace("\u2212", "-")
    return p.returncode, text, p.stderr


def test_render_without_warnings():
    """groff -ww and man --warnings say nothing of either page"""
    if not shutil.which("groff") or not shutil.which("man"):
        raise fc.Skip("groff or man missing (apt-get install man-db)")
    for prog in PROGRAMS:
        path = page(prog)
        p = subprocess.run(["groff", "-man", "-ww", "-z", path], stderr=subprocess.PIPE,
                           text=True, timeout=30)
        fc.check(p.returncode == 0 and p.stderr == "", f"groff -man -ww {prog}.1: {p.stderr!r}")
        rc, text, err = rendered(path)
        fc.check(rc == 0 and err == "" and "SYNOPSIS" in text and "SEE ALSO" in text,
                 f"man --warnings -l {prog}.1 (exit {rc}): {err!r}")


def test_every_option_in_page():
    """every long option of --help is in the rendered page's OPTIONS, with its description's
    first words, and every example command is in EXAMPLES"""
    if not shutil.which("man"):
        raise fc.Skip("man missing (apt-get install man-db)")
    for prog in PROGRAMS:
        opts, help_text = help_options(prog)
        fc.check(len(opts) >= 15, f"{prog} --help lists options ({len(opts)})")
        _, text, _ = rendered(page(prog))
        options = text[text.find("\nOPTIONS"):text.find("\nEXAMPLES")]
        missing = sorted(o for o in opts if not re.search(rf"(^|\W){re.escape(o)}\b", options))
        fc.check(options and not missing, f"{prog}(1) OPTIONS has every option ({missing} missing)")
        flat = " ".join(options.split())
        firsts = [" ".join(l.strip().split("  ")[-1].split()[:3]) for l in help_text.splitlines()
                  if l.lstrip().startswith("-") and "  " in l.strip()]
        lost = [f for f in firsts if f and f not in flat]
        fc.check(firsts and not lost, f"{prog}(1) has each option's description ({lost} lost)")
        examples = " ".join(text[text.find("\nEXAMPLES"):].split())
        cmds = [" ".join(l.strip().split("  ")[0].split()) for l in
                help_text[help_text.find("Examples:"):].splitlines()[1:] if l.startswith("  ")]
        gone = [c for c in cmds if c not in examples]
        fc.check(cmds and not gone, f"{prog}(1) EXAMPLES has every example ({gone} missing)")
        version = fc._cache("CMAKE_PROJECT_VERSION")
        fc.check(f"freshcam {version}" in text, f"{prog}(1) names the version {version}")


if __name__ == "__main__":
    fc.main(test_render_without_warnings, test_every_option_in_page)
