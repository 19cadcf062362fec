"""End to end: freshcam-send --http behind nginx over HTTPS, with the server block of
examples/nginx-freshcam.conf itself (only its port, certificate and upstream replaced), so the
documented setup is the tested one (docs/HTTP.md, "HTTPS with nginx"). Each test makes a
self-signed certificate with openssl, runs nginx in the foreground with a prefix, pid and logs of
its own on a free port of 127.0.0.1, and proves one thing through it: the page loads, /stream's
parts pass whole and unbuffered (ffmpeg decodes them), /snapshot is a JPEG, and the page shows
frames over wss in Debian's chromium and firefox-esr (tests/web/test_page.mjs and
test_page_firefox.mjs with FC_PAGE_URL)."""
import contextlib
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import time

import fc
import test_http

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(ROOT, "examples", "nginx-freshcam.conf")
PAGE_TEST = os.path.join(ROOT, "tests", "web", "test_page.mjs")
PAGE_TEST_FIREFOX = os.path.join(ROOT, "tests", "web", "test_page_firefox.mjs")


def nginx_path():
    """nginx, which Debian installs in /usr/sbin (not on every user's PATH)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)
    if not found:
        raise fc.Skip("nginx is not installed (apt-get install nginx-light; tools/check does)")
    return found


def need(tool):
    if not shutil.which(tool):
        raise fc.Skip(f"{tool} is not installed (apt-get install {tool}; tools/check does)")


def certificate(d):
    """A self-signed certificate for 127.0.0.1, valid one day: (cert, key)."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    code, out = fc.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key,
                        "-out", cert])
    assert code == 0, f"openssl could not make a certificate: {out}"
    return cert, key


def server_block(port, cert, key, upstream):
    """The example's text with this test's port, certificate and upstream; each replaced line
    must be there, so an edit of the example that the test no longer matches fails here."""
    text = open(EXAMPLE).read()
    swaps = [(r"(?m)^\tlisten 443 ssl;$", f"\tlisten 127.0.0.1:{port} ssl;"),
             (r"(?m)^\tlisten \[::\]:443 ssl;\n", ""),
             (r"(?m)^\tssl_certificate \S+;$", f"\tssl_certificate {cert};"),
             (r"(?m)^\tssl_certificate_key \S+;$", f"\tssl_certificate_key {key};"),
             (r"http://127\.0\.0\.1:8080;", f"http://127.0.0.1:{upstream};")]
    for pattern, repl in swaps:
        text, n = re.subn(pattern, repl, text)
        assert n > 0, f"{EXAMPLE} has no line matching {pattern!r}: update the test with it"
    return text


def nginx_conf(d, port, cert, key, upstream):
    """A whole nginx.conf around the server block: in the foreground, one process, everything it
    writes under d."""
    with open(os.path.join(d, "freshcam.conf"), "w") as f:
        f.write(server_block(port, cert, key, upstream))
    temps = "".join(f"\t{k}_temp_path {d}/{k};\n" for k in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"daemon off;\nmaster_process off;\npid {d}/nginx.pid;\n"
                f"error_log {d}/error.log info;\nevents {{\n\tworker_connections 64;\n}}\n"
                f"http {{\n\taccess_log {d}/access.log;\n{temps}"
                f"\tinclude {d}/freshcam.conf;\n}}\n")
    return conf


def tls_listening(port, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not fc.listening(port):
        time.sleep(0.05)
    return fc.listening(port)


@contextlib.contextmanager
def proxied(size="320x240"):
    """A sender with --http on loopback and nginx in front of it: yields (sender, nginx's HTTPS
    port). nginx is stopped on every way out."""
    nginx = nginx_path()
    need("openssl")
    s, hport = test_http.http_sender(size=size)
    d = os.path.join(fc.TMP, f"nginx-{hport}")
    os.makedirs(d)
    cert, key = certificate(d)
    port = fc.free_port()
    conf = nginx_conf(d, port, cert, key, hport)
    code, out = fc.run([nginx, "-t", "-p", d, "-e", f"{d}/error.log", "-c", conf])
    fc.check(code == 0, f"nginx takes the example's server block ({out.strip()[-300:]})", s)
    n = fc.Proc(f"nginx-{port}", [nginx, "-p", d, "-e", f"{d}/error.log", "-c", conf])
    try:
        assert tls_listening(port), f"nginx does not listen on {port}:\n{n.output()}"
        yield s, port
    finally:
        n.stop(timeout=5)
        with contextlib.suppress(OSError):
            n.log.write(open(f"{d}/error.log").read())
        s.stop()


def curl(port, path, out):
    """(HTTP status, content type) of one request through nginx, its body in the file out."""
    code, text = fc.run(["curl", "-k", "-s", "-o", out, "-w", "%{http_code} %{content_type}",
                         f"https://127.0.0.1:{port}{path}"])
    status, _, ctype = text.strip().partition(" ")
    return (int(status) if code == 0 and status.isdigit() else 0), ctype


class TlsStream(test_http.Stream):
    """test_http's /stream reader over TLS (the certificate is ours: not verified)."""

    def __init__(self, port, path="/stream"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n").decode("latin-1")
        self.status = int(head.split()[1])
        self.type = re.search(r"(?im)^content-type:\s*(.*)$", head).group(1).strip()


def test_doc_is_the_example():
    """docs/HTTP.md shows the server block of examples/nginx-freshcam.conf, word for word"""
    text = open(EXAMPLE).read()
    block = text[text.index("# A WebSocket"):]
    doc = open(os.path.join(ROOT, "docs", "HTTP.md")).read()
    fc.check(f"```nginx\n{block}```" in doc,
             "docs/HTTP.md's \"HTTPS with nginx\" holds the example's block as it is")


def test_page_and_state():
    """the page and /state load over https (curl -k)"""
    need("curl")
    with proxied() as (s, port):
        page = os.path.join(fc.TMP, "page.html")
        code, ctype = curl(port, "/", page)
        fc.check(code == 200 and ctype.startswith("text/html")
                 and b"<html" in open(page, "rb").read(), f"the page over https ({code} {ctype})", s)
        state = os.path.join(fc.TMP, "state.json")
        code, ctype = curl(port, "/state", state)
        fc.check(code == 200 and "source" in json.load(open(state)),
                 f"/state over https is the sender's JSON ({code} {ctype})", s)


def test_stream():
    """/stream through nginx: ffmpeg decodes it over TLS; each part arrives whole with its
    headers, as fresh as the sender made it (nothing buffered on the way)"""
    need("ffmpeg")
    with proxied() as (s, port):
        code, out = fc.run(["ffmpeg", "-hide_banner", "-nostats", "-tls_verify", "0", "-i",
                            f"https://127.0.0.1:{port}/stream", "-frames:v", "10", "-f", "null",
                            "-"], timeout=30)
        frames = re.findall(r"frame=\s*(\d+)", out)
        fc.check(code == 0 and frames and int(frames[-1]) == 10,
                 f"ffmpeg decodes 10 frames from https://.../stream ({frames[-1:] or out[-300:]})",
                 s)
        st = TlsStream(port)
        fc.check(st.status == 200 and st.type.startswith("multipart/x-mixed-replace"),
                 f"/stream answers 200 multipart through nginx ({st.status} {st.type})", s)
        ages, seqs, whole = [], [], True
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            h, jpeg = st.part()
            ages.append(1000 * (time.time() - float(h["x-timestamp"])))
            seqs.append(int(h["x-freshcam-seq"]))
            whole = whole and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        st.close()
        fps = len(seqs) / 3
        print(f"through nginx: {fps:.1f} parts/s, capture to last byte read p50 "
              f"{statistics.median(ages):.2f} ms, max {max(ages):.2f} ms")
        fc.check(whole and len(seqs) > 10 and all(b > a for a, b in zip(seqs, seqs[1:])),
                 f"whole JPEGs in sequence ({len(seqs)} parts)", s)
        fc.check_speed(fps >= 25, f"the stream keeps its rate through nginx ({fps:.1f} parts/s)",
                       s)
        # A buffering proxy would hold parts until a buffer fills: several frame periods old.
        fc.check_speed(statistics.median(ages) < 33,
                       f"parts are not held on the way (median age {statistics.median(ages):.1f} "
                       f"ms at read)", s)


def test_snapshot():
    """/snapshot through nginx is a JPEG of the sender's size"""
    need("curl")
    need("ffprobe")
    with proxied() as (s, port):
        snap = os.path.join(fc.TMP, "snap.jpg")
        code, ctype, size = 0, "", None
        end = time.monotonic() + 5
        while code != 200 and time.monotonic() < end:
            code, ctype = curl(port, "/snapshot", snap)
        if code == 200:
            size = test_http.jpeg_size(open(snap, "rb").read())
        fc.check(code == 200 and ctype == "image/jpeg" and size == (320, 240),
                 f"/snapshot over https: a 320x240 JPEG ({code} {ctype} {size})", s)


def page_over_wss(script, browser):
    """Runs a page test of tests/web against nginx's https URL and checks what it printed."""
    if not shutil.which("node"):
        raise fc.Skip("node is not installed (apt-get install nodejs; tools/check does)")
    with proxied(size="640x360") as (s, port):
        env = dict(os.environ, FC_PAGE_URL=f"https://127.0.0.1:{port}/")
        p = subprocess.run(["node", script, fc.BIN], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
        print(p.stdout)
        skip = re.search(r"(?m)^skipped: (.*)$", p.stdout)
        if p.returncode == 77 and skip and not skip.group(1).startswith("NO SIGNAL"):
            raise fc.Skip(f"the browser test skipped: {skip.group(1)}")
        shown = re.search(r"(?m)^ok: at least 20 fps shown", p.stdout) or \
            re.search(r"(?m)^unchecked .*at least 20 fps shown", p.stdout)
        # Stopping the sender is this test's, not the page test's: it skips its NO SIGNAL part.
        fc.check(p.returncode in (0, 77) and "FAIL" not in p.stdout and shown
                 and re.search(r"(?m)^ok: two screenshots a second apart differ", p.stdout)
                 and re.search(r"(?m)^ok: no frame shown over the budget", p.stdout),
                 f"the page shows fresh frames over wss in {browser} (node exited {p.returncode})",
                 s)


def test_page_over_wss():
    """the live page at https://.../ shows the stream over wss in headless chromium (the
    browser test of tests/web, pointed at nginx)"""
    page_over_wss(PAGE_TEST, "chromium")


def test_page_over_wss_firefox():
    """the same in firefox-esr over Marionette (nginx's self-signed certificate accepted by the
    session's acceptInsecureCerts)"""
    page_over_wss(PAGE_TEST_FIREFOX, "firefox")


if __name__ == "__main__":
    fc.main(test_doc_is_the_example, test_page_and_state, test_stream, test_snapshot,
            test_page_over_wss, test_page_over_wss_firefox)
