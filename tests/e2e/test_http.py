"""End to end: freshcam-send --http, read by programs nobody here wrote (ffmpeg, ffprobe) and by
plain sockets: /stream's parts and headers, /snapshot, /state, mjpg-streamer's URLs, the errors,
the limits (a silent client, 200 clients at once, one more than the server takes), a slow client
beside a fast one, and who may watch (loopback by default, a warning beyond it; with a
passphrase, only programs with the token and pages that proved it, wrong tries slowed down).
docs/HTTP.md says what each promises."""
import functools
import hashlib
import hmac
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import time

import fc

LIB = os.path.join(fc.BIN, "tools", "fakecam", "libfakecam.so")


def http_sender(*extra, name="send-http", env=None, size="320x240"):
    """A sender on the test pattern with HTTP on a free port; returns (proc, http port)."""
    port = fc.free_port()
    path = os.path.join(fc.TMP, f"{name}.jsonl")
    args = [os.path.join(fc.BIN, "freshcam-send"), "--listen", f"127.0.0.1:{fc.free_port()}",
            "--http", str(port), "--size", size, "--stats-json", path] + list(extra)
    p = fc.Proc(name, args, path, env=env)
    # With a passphrase it first derives two keys (Argon2id and PBKDF2, a second or two under a
    # sanitizer): on a busy machine that is more than fc.wait_listening's 5 s.
    fc.wait_listening(port, timeout=30)
    return p, port


def get(port, path, method="GET", timeout=10, headers=""):
    """(status, headers as a lower-cased dict, body) of one request; headers are extra lines,
    each ending in CRLF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"
                  .encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict((k.strip().lower(), v.strip()) for k, v in
                   (l.split(":", 1) for l in lines[1:] if ":" in l))
    return int(lines[0].split()[1]), headers, body


class Stream:
    """A /stream reader on a plain socket: parses each part's headers and JPEG."""

    def __init__(self, port, path="/stream", rcvbuf=None):
        self.s = socket.socket()
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n").decode("latin-1")
        self.status = int(head.split()[1])
        self.type = re.search(r"(?im)^content-type:\s*(.*)$", head).group(1).strip()

    def _until(self, mark):
        while mark not in self.buf:
            chunk = self.s.recv(262144)
            if not chunk:
                raise AssertionError("the stream ended")
            self.buf += chunk
        out, _, self.buf = self.buf.partition(mark)
        return out

    def _take(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(262144)
            if not chunk:
                raise AssertionError("the stream ended")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def part(self):
        """(headers, jpeg) of the next part."""
        lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        lines = [l for l in lines if l]
        assert lines[0] == "--freshcamframe", f"a part starts with {lines[0]!r}"
        headers = dict((k.strip().lower(), v.strip()) for k, v in
                       (l.split(":", 1) for l in lines[1:]))
        jpeg = self._take(int(headers["content-length"]))
        assert self._take(2) == b"\r\n"
        return headers, jpeg

    def close(self):
        self.s.close()


def jpeg_size(data):
    """(width, height) of a JPEG as ffprobe reads it, or None when it is not one."""
    path = os.path.join(fc.TMP, "probe.jpg")
    with open(path, "wb") as f:
        f.write(data)
    code, out = fc.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "stream=width,height", "-of", "csv=p=0", path])
    if code != 0 or "," not in out:
        return None
    w, h = out.strip().split(",")[:2]
    return int(w), int(h)


def need(tool):
    if not shutil.which(tool):
        raise fc.Skip(f"{tool} is not installed (apt-get install ffmpeg; tools/check does)")


def test_ffmpeg_reads_stream():
    """ffmpeg decodes frames from /stream and from mjpg-streamer's /?action=stream"""
    need("ffmpeg")
    s, port = http_sender()
    for path in ("/stream", "/?action=stream"):
        code, out = fc.run(["ffmpeg", "-hide_banner", "-nostats", "-i",
                            f"http://127.0.0.1:{port}{path}", "-frames:v", "10", "-f", "null",
                            "-"], timeout=30)
        frames = re.findall(r"frame=\s*(\d+)", out)
        fc.check(code == 0 and frames and int(frames[-1]) == 10,
                 f"ffmpeg decodes 10 frames from {path} ({frames[-1:] or out[-300:]})", s)
    s.stop()


def test_parts():
    """each part has Content-Type, Content-Length (the JPEG's exact length), X-Timestamp (the
    capture, on the wall clock) and a growing X-Freshcam-Seq"""
    s, port = http_sender()
    st = Stream(port)
    fc.check(st.status == 200 and st.type == "multipart/x-mixed-replace;boundary=freshcamframe",
             f"/stream answers 200 multipart ({st.status} {st.type})", s)
    seqs, ok = [], True
    for _ in range(10):
        h, jpeg = st.part()
        ok = ok and h["content-type"] == "image/jpeg" and jpeg[:2] == b"\xff\xd8" \
            and jpeg[-2:] == b"\xff\xd9"
        age = time.time() - float(h["x-timestamp"])
        ok = ok and -0.5 < age < 2 and re.fullmatch(r"\d+\.\d{6}", h["x-timestamp"])
        seqs.append(int(h["x-freshcam-seq"]))
    st.close()
    fc.check(ok, "every part is a whole JPEG with a current X-Timestamp", s)
    fc.check(all(b > a for a, b in zip(seqs, seqs[1:])), f"sequence numbers grow ({seqs})", s)
    # Stopped with a client still on /stream: its frame goes back, the sender exits 0 (and a
    # sanitizer build finds no leak).
    late = Stream(port)
    late.part()
    fc.check(s.stop() == 0, "the sender stops cleanly with a /stream client connected", s)
    late.close()


def test_snapshot_and_state():
    """/snapshot and /?action=snapshot are JPEGs of the asked size; /state has the documented
    fields, a protocol viewer among them"""
    need("ffprobe")
    s, port = http_sender(size="320x240")
    vport = int(s.args[s.args.index("--listen") + 1].split(":")[1])
    fc.wait_listening(vport)
    v = fc.viewer(vport, "--seconds", "20", name="view-http")
    for path in ("/snapshot", "/?action=snapshot"):
        # A 503 says the source delivered nothing for a frame period: under a sanitizer on a
        # busy machine the capture thread can be held that long. Asked again while it says so
        # (at most 5 s); the JPEG is the check.
        end = time.monotonic() + 5
        code, h, body = get(port, path)
        while code == 503 and b"not delivering" in body and time.monotonic() < end:
            time.sleep(0.1)
            code, h, body = get(port, path)
        fc.check(code == 200 and h.get("content-type") == "image/jpeg"
                 and jpeg_size(body) == (320, 240),
                 f"{path}: a 320x240 JPEG ({code}, {h.get('content-type')}, "
                 f"{jpeg_size(body) if code == 200 else body[:80]})", s)
    # Until the viewer has been sent frames (at most 10 s), then /state is read as it stands.
    end = time.monotonic() + 10
    while True:
        code, h, body = get(port, "/state")
        st = json.loads(body)
        if any(x.get("sent", 0) > 0 for x in st.get("viewers", [])) or time.monotonic() > end:
            break
        time.sleep(0.1)
    fc.check(code == 200 and h.get("content-type") == "application/json",
             f"/state is JSON ({code})", s)
    src = st.get("source", {})
    fc.check(src.get("kind") == "pattern" and src.get("width") == 320
             and src.get("height") == 240 and src.get("fps") == 30
             and {"device", "format", "description"} <= src.keys(),
             f"/state: the source ({src})", s)
    fc.check({"codec", "quality", "encoders", "adapt"} <= st.get("encoder", {}).keys(),
             f"/state: the encoder ({st.get('encoder')})", s)
    clients = st.get("http", {}).get("clients", [])
    fc.check(any(c["kind"] == "state" and c["peer"] == "127.0.0.1" for c in clients)
             and all({"kind", "peer", "sent", "skipped"} <= c.keys() for c in clients),
             f"/state: its HTTP clients ({clients})", s)
    viewers = st.get("viewers", [])
    fc.check(len(viewers) == 1 and viewers[0]["sent"] > 0
             and {"id", "peer", "accepted", "late", "too_old", "last_bound_ms", "width",
                  "link_mbps"} <= viewers[0].keys(),
             f"/state: the protocol viewer with its figures ({viewers})", s)
    v.stop()
    s.stop()


def test_errors():
    """404 for an unknown path, 405 (with Allow: GET) for another method"""
    s, port = http_sender()
    code, h, body = get(port, "/nothing-here")
    fc.check(code == 404 and b"not found" in body, f"404 for /nothing-here ({code} {body})", s)
    code, h, body = get(port, "/../etc/passwd")
    fc.check(code in (400, 403, 404) and b"root:" not in body,
             f"no file outside the page ({code})", s)
    code, h, body = get(port, "/state", method="POST")
    fc.check(code == 405 and h.get("allow") == "GET", f"405 for POST ({code} {h})", s)
    code, h, body = get(port, "/")
    fc.check(code == 200 and h.get("content-type", "").startswith("text/html")
             and b"<html" in body, f"/ is the page ({code} {h.get('content-type')})", s)
    # Every connection above has closed: the count that the 256 limit reads is back to this one.
    time.sleep(0.3)
    code, h, body = get(port, "/state")
    fc.check(json.loads(body)["http"]["connections"] == 1,
             f"closed connections are no longer counted ({json.loads(body)['http']})", s)
    s.stop()


def test_no_frame_when_unplugged():
    """/snapshot says 503 with a clear text once the camera is unplugged"""
    env = fc.preload_env(LIB, foreign=False)
    env.update({"FAKECAM_DEVICE": "/dev/video0", "FAKECAM_UNPLUG_AFTER": "30"})
    s, port = http_sender("--device", "/dev/video0", "--format", "mjpeg", name="send-unplug",
                          env=env, size="640x480")
    end = time.monotonic() + 5
    code = 0
    while code != 200 and time.monotonic() < end:
        code, _, _ = get(port, "/snapshot")
    fc.check(code == 200, f"a snapshot while the camera is there ({code})", s)
    end = time.monotonic() + 8
    while time.monotonic() < end:
        code, h, body = get(port, "/snapshot")
        if code != 200:
            break
        time.sleep(0.3)
    fc.check(code == 503 and h.get("content-type", "").startswith("text/plain")
             and body.startswith(b"no frame: the source is not delivering (camera unplugged?)"),
             f"503 once it is unplugged ({code} {body[:120]})", s)
    s.stop()


def test_silent_client_dropped():
    """a client that connects and sends nothing is closed after the 10 s timeout, not before"""
    s, port = http_sender()
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(20)
    t0 = time.monotonic()
    try:
        data = c.recv(100)
    except socket.timeout:
        data = None
    took = time.monotonic() - t0
    fc.check(data == b"" and 9 <= took <= 13,
             f"the silent client is closed after {took:.1f} s (data {data!r})", s)
    s.stop()


def test_slow_client():
    """a client taking one frame a second does not lower another's rate, and skips frames"""
    s, port = http_sender()
    slow = Stream(port, rcvbuf=4096)
    fast = Stream(port)
    fast.part()
    t0, n = time.monotonic(), 0
    next_slow = t0
    slow_ages = []
    while time.monotonic() - t0 < 5:
        fast.part()
        n += 1
        if time.monotonic() >= next_slow:
            h, _ = slow.part()
            slow_ages.append(time.time() - float(h["x-timestamp"]))
            next_slow += 1
    rate = n / (time.monotonic() - t0)
    code, _, body = get(port, "/state")
    clients = [c for c in json.loads(body)["http"]["clients"] if c["kind"] == "stream"]
    slow.close()
    fast.close()
    fc.check_speed(rate >= 25, f"the fast client gets {rate:.1f} fps beside the slow one", s)
    fc.check(any(c["skipped"] > 20 for c in clients),
             f"the slow client skipped frames instead of queueing them ({clients})", s)
    # What it reads was taken when it last made room, a second ago, not at the back of a queue.
    fc.check(max(slow_ages[2:]) < 1.5,
             f"the slow client's frames are at most its own second old "
             f"({', '.join(f'{a:.2f}' for a in slow_ages)} s)", s)
    s.stop()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def test_many_clients():
    """200 /stream clients for 10 s: the sender keeps its capture rate and its memory stays
    bounded; connections beyond 256 are answered 503"""
    s, port = http_sender()
    time.sleep(1)
    before = rss_kb(s.p.pid)
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(200):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        c.setblocking(False)
        sel.register(c, selectors.EVENT_READ)
        socks.append(c)
    got = {c.fileno(): 0 for c in socks}
    t0 = time.monotonic()
    peak = before
    while time.monotonic() - t0 < 10:
        for key, _ in sel.select(0.2):
            try:
                got[key.fd] += len(key.fileobj.recv(1 << 20))
            except BlockingIOError:
                pass
        peak = max(peak, rss_kb(s.p.pid))
    # 60 more, one by one, each kept open: the server has room for 256 connections in all.
    extra, codes = [], []
    for _ in range(60):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"GET /state HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            codes.append(int(c.recv(64).split()[1]))
        except (OSError, IndexError, ValueError):
            codes.append(0)
        extra.append(c)
    for c in extra:
        c.close()
    for c in socks:
        c.close()
    lines = [l for l in s.stats() if not l["summary"]]
    fc.check(s.stop() == 0, "the sender stops cleanly with its clients gone", s)
    fps = [l["capture_fps"] for l in lines[-9:]]
    streams = max(l.get("http", {}).get("streams", 0) for l in lines)
    fc.check(streams == 200 and min(got.values()) > 0,
             f"200 clients on /stream at once, each got bytes ({streams})", s)
    fc.check_speed(min(fps) >= 25, f"the capture keeps its rate ({fps})", s)
    fc.check(peak - before < 64 * 1024,
             f"memory stays bounded ({before} kB before, {peak} kB at most)", s)
    fc.check(codes == [200] * 56 + [503] * 4,
             f"beyond 256 connections: 503 ({codes.count(200)} x 200, {codes.count(503)} x 503)",
             s)


def listens_on(port, hexaddr):
    with open("/proc/net/tcp") as f:
        return any(l.split()[1] == f"{hexaddr}:{port:04X}" and l.split()[3] == "0A"
                   for l in list(f)[1:])


def test_who_may_watch():
    """a bare port is loopback only; every address warns; a port in use is named"""
    s, port = http_sender()
    fc.check(listens_on(port, "0100007F"), "--http PORT listens on 127.0.0.1 only", s)
    fc.check("warning" not in s.output().lower(), "no warning on loopback", s)
    code, _, body = get(port, "/auth/challenge")
    fc.check(code == 200 and json.loads(body) == {"passphrase": False},
             f"no passphrase: /auth/challenge says so ({code} {body!r})", s)
    code, _, _ = get(port, "/auth/prove?nonce=00&proof=00")
    fc.check(code == 404, f"and /auth/prove is not there ({code})", s)
    s.stop()
    port = fc.free_port()
    w = fc.Proc("send-wide", [os.path.join(fc.BIN, "freshcam-send"), "--listen",
                              f"127.0.0.1:{fc.free_port()}", "--http", f"0.0.0.0:{port}",
                              "--seconds", "1"])
    fc.check(w.wait(20) == 0 and "anyone who can reach this HTTP port" in w.output(),
             "--http 0.0.0.0:PORT warns", w)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        code, out = fc.run([os.path.join(fc.BIN, "freshcam-send"), "--listen",
                            f"127.0.0.1:{fc.free_port()}", "--http", str(taken), "--seconds",
                            "5"])
    fc.check(code != 0 and "in use" in out and "--http" in out,
             f"a port in use is named ({code}: {out.strip()[-200:]})")


PASS = "correct horse battery staple h15"
SOI_MARK = b"\xff\xd8\xff"


def pass_env():
    return dict(os.environ, FRESHCAM_PASSPHRASE=PASS)


@functools.cache  # checked once, used by three tests
def token():
    """The token freshcam-send prints, checked against PBKDF2 computed here (docs/HTTP.md's
    derivation, which the page repeats with WebCrypto)."""
    code, out = fc.run([os.path.join(fc.BIN, "freshcam-send"), "--print-http-token"])
    fc.check(code != 0 and "no passphrase" in out, f"--print-http-token needs one ({out.strip()})")
    p = subprocess.run([os.path.join(fc.BIN, "freshcam-send"), "--print-http-token"],
                       env=pass_env(), stdout=subprocess.PIPE, text=True, timeout=60)
    want = hashlib.pbkdf2_hmac("sha256", PASS.encode(), b"freshcam 4 http token", 600000).hex()
    fc.check(p.returncode == 0 and p.stdout.strip() == want,
             f"--print-http-token prints PBKDF2-SHA256 of the passphrase ({p.stdout.strip()})")
    return want


def test_passphrase_programs():
    """with a passphrase: 401 without the token for /stream, /snapshot, /state and
    mjpg-streamer's URLs (the page's files need none); 200 with Authorization: Bearer and with
    ?token=; ffmpeg reads /stream?token=; the token shows nowhere"""
    tok = token()
    s, port = http_sender(env=pass_env(), name="send-pass")
    fc.check("--print-http-token" in s.output(), "the console says how to get the token", s)
    for path in ("/stream", "/snapshot", "/state", "/?action=snapshot", "/?action=stream"):
        code, headers, body = get(port, path)
        fc.check(code == 401 and headers.get("www-authenticate", "").startswith("Bearer") and
                 b"token" in body and b"\xff\xd8" not in body,
                 f"{path} without the token: 401 saying what is needed ({code} {body[:60]!r})", s)
    code, _, body = get(port, "/")
    fc.check(code == 200 and b"<html" in body.lower(), f"the page's files need none ({code})", s)
    code, _, body = get(port, "/auth.js")
    fc.check(code == 200 and b"PBKDF2" in body, f"nor the page's script that proves it ({code})", s)
    code, _, body = get(port, "/snapshot", headers=f"Authorization: Bearer {tok}\r\n")
    fc.check(code == 200 and body[:3] == SOI_MARK and jpeg_size(body) == (320, 240),
             f"/snapshot with Authorization: Bearer ({code}, {len(body)} bytes)", s)
    for path in (f"/snapshot?token={tok}", f"/?action=snapshot&token={tok}"):
        code, _, body = get(port, path)
        fc.check(code == 200 and body[:3] == SOI_MARK, f"{path[:20]}...token=: 200 ({code})", s)
    code, _, body = get(port, f"/state?token={tok}")
    fc.check(code == 200 and "source" in json.loads(body) and tok.encode() not in body,
             f"/state?token=: its JSON, without the token ({code})", s)
    st = Stream(port, f"/stream?token={tok}")
    fc.check(st.status == 200, f"/stream?token=: 200 ({st.status})", s)
    st.s.close()
    need("ffmpeg")
    code, out = fc.run(["ffmpeg", "-hide_banner", "-nostats", "-i",
                        f"http://127.0.0.1:{port}/stream?token={tok}", "-frames:v", "10", "-f",
                        "null", "-"], timeout=30)
    frames = re.findall(r"frame=\s*(\d+)", out)
    fc.check(code == 0 and frames and int(frames[-1]) == 10,
             f"ffmpeg decodes 10 frames from /stream?token= ({frames[-1:] or out[-300:]})", s)
    fc.check(tok not in s.output() and PASS not in s.output(), "the log holds no secret", s)
    s.stop()


def prove(port, key, nonce):
    proof = hmac.new(key, f"fc-http-proof {nonce}".encode(), hashlib.sha256).hexdigest()
    return get(port, f"/auth/prove?nonce={nonce}&proof={proof}")


def upgrade(port, headers=""):
    """The status of a WebSocket upgrade to the page's protocol (read from the response's head:
    a 101 leaves the connection open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Protocol: freshcam\r\n{headers}\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return 0
            head += chunk
    return int(head.split()[1])


def test_passphrase_page():
    """the page's way in: a challenge (salt, iterations, a nonce), HMAC of the nonce under the
    token's key gives an HttpOnly SameSite=Strict cookie that /state and the WebSocket accept; a
    proof replayed or from another passphrase gets 401; no cookie, no WebSocket"""
    tok = token()
    s, port = http_sender(env=pass_env(), name="send-page")
    code, _, body = get(port, "/auth/challenge")
    ch = json.loads(body)
    fc.check(code == 200 and ch["passphrase"] is True and ch["salt"] == "freshcam 4 http token" and
             ch["iterations"] == 600000 and len(ch["nonce"]) == 64,
             f"/auth/challenge: the salt, iterations and a nonce ({code} {ch})", s)
    code, headers, _ = prove(port, bytes.fromhex(tok), ch["nonce"])
    cookie = headers.get("set-cookie", "")
    fc.check(code == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie,
             f"the right proof gets a session cookie ({code} {cookie[:40]})", s)
    session = cookie.split(";")[0]
    code, _, _ = get(port, "/state", headers=f"Cookie: {session}\r\n")
    fc.check(code == 200, f"/state takes the cookie ({code})", s)
    code, _, _ = prove(port, bytes.fromhex(tok), ch["nonce"])
    fc.check(code == 401, f"a proof replayed: 401 ({code})", s)
    fc.check(upgrade(port) == 401, "the WebSocket without a cookie: 401", s)
    fc.check(upgrade(port, f"Cookie: {session}\r\n") == 101, "with the cookie: 101", s)
    _, _, body = get(port, "/auth/challenge")
    other = hashlib.pbkdf2_hmac("sha256", b"not the passphrase", b"freshcam 4 http token", 1000)
    code, headers, _ = prove(port, other, json.loads(body)["nonce"])
    fc.check(code == 401 and "set-cookie" not in headers, f"a wrong proof: 401 ({code})", s)
    s.stop()


def test_passphrase_throttle():
    """wrong tokens are slowed down as on the viewer port: each next try from the address is
    held longer (0.5 s, 1 s, 2 s), the right token too while the address is in disgrace, and one
    whose turn is too far is refused with 429 and Retry-After"""
    tok = token()
    s, port = http_sender(env=pass_env(), name="send-throttle")
    took = []
    for i in range(4):
        t0 = time.monotonic()
        code, _, _ = get(port, f"/state?token={i:064x}")
        took.append(time.monotonic() - t0)
        fc.check(code == 401, f"wrong token {i + 1}: 401 ({code})", s)
    fc.check(took[1] >= 0.45 and took[2] >= 0.95 and took[3] >= 1.95,
             f"each wrong try waits longer ({', '.join(f'{t:.2f}' for t in took)} s)", s)
    code, headers, body = get(port, f"/state?token={tok}")
    fc.check(code == 429 and int(headers.get("retry-after", "0")) >= 2 and b"try again" in body,
             f"the next try, 4 s away, is refused: 429 ({code} {headers.get('retry-after')})", s)
    time.sleep(2.5)
    t0 = time.monotonic()
    code, _, _ = get(port, f"/state?token={tok}")
    fc.check(code == 200 and time.monotonic() - t0 >= 1.0,
             f"the right token, held till its turn: 200 after {time.monotonic() - t0:.2f} s", s)
    code, _, _ = get(port, f"/state?token={tok}")
    fc.check(code == 200, f"a success forgets the failures ({code})", s)
    s.stop()


if __name__ == "__main__":
    fc.main(test_parts, test_errors, test_ffmpeg_reads_stream, test_snapshot_and_state,
            test_no_frame_when_unplugged, test_silent_client_dropped, test_slow_client,
            test_many_clients, test_who_may_watch, test_passphrase_programs,
            test_passphrase_page, test_passphrase_throttle)
