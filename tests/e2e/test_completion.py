"""End to end: the bash completion (completion/freshcam) offers exactly the options each
program's --help lists, and the values of the options it knows: cameras for --device, files for
the options that take one, the words of the enumerated options. Bash itself runs it: the file is
sourced and its function called with COMP_WORDS set, as bash-completion would."""
import glob
import os
import shutil
import subprocess

import fc
from test_man import help_options

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "completion",
                   "freshcam")


def complete(*words):
    """What the completion offers for the last of words (the word being typed), as a set."""
    prog = words[0]
    func = {"freshcam-send": "_freshcam_send", "freshcam-view": "_freshcam_view"}[prog]
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
              f'{func}; printf "%s\\n" "${{COMPREPLY[@]}}"')
    p = subprocess.run(["bash", "--norc", "-c", script, "bash", SRC] + list(words),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
    assert p.returncode == 0, f"bash completion {words} exited {p.returncode}: {p.stderr}"
    return {l for l in p.stdout.split("\n") if l}


def need_bash():
    if not shutil.which("bash"):
        raise fc.Skip("no bash")


def test_options_match_help():
    """completing "--" offers exactly the long options of --help, for both programs"""
    need_bash()
    for prog in ("freshcam-send", "freshcam-view"):
        want, _ = help_options(prog)
        got = complete(prog, "--")
        fc.check(len(want) >= 15 and got == want,
                 f"{prog} --<TAB>: missing {sorted(want - got)}, extra {sorted(got - want)}")
    fc.check(complete("freshcam-send", "--stats-") == {"--stats-json", "--stats-every"},
             "a prefix narrows the options (--stats-)")


def test_values():
    """the enumerated options offer their words, --device the cameras, file options files"""
    need_bash()
    cases = [
        (("freshcam-view", "--clock", ""), {"proven", "synced", "synced:", "request"}),
        (("freshcam-view", "--clock", "s"), {"synced", "synced:"}),
        (("freshcam-send", "--adapt", ""), {"on", "off"}),
        (("freshcam-view", "--adapt", "o"), {"on", "off"}),
        (("freshcam-send", "--format", ""), {"auto", "mjpeg", "yuyv"}),
        (("freshcam-send", "-f", "m"), {"mjpeg"}),
        (("freshcam-send", "--device", ""), set(glob.glob("/dev/video*"))),
        (("freshcam-send", "-d", "/dev/nul"), {"/dev/null"}),
        (("freshcam-send", "--max-viewers", ""), set()),
    ]
    for words, want in cases:
        got = complete(*words)
        fc.check(got == want, f"{' '.join(words)}<TAB>: {sorted(got)} (want {sorted(want)})")
    d = os.path.join(fc.TMP, "files")
    os.makedirs(d)
    for name in ("pass.txt", "stats.jsonl", "clip.mkv"):
        open(os.path.join(d, name), "w").close()
    for prog, opt in (("freshcam-send", "--passphrase-file"), ("freshcam-send", "--stats-json"),
                      ("freshcam-view", "--record"), ("freshcam-view", "--passphrase-file")):
        got = complete(prog, opt, os.path.join(d, "c"))
        fc.check(got == {os.path.join(d, "clip.mkv")}, f"{prog} {opt} completes files ({got})")


if __name__ == "__main__":
    fc.main(test_options_match_help, test_values)
