/*
 * web/freshcam.js against a real freshcam-send, over a plain TCP socket (the bytes are the same
 * as over the WebSocket): proves that the page's side of the protocol keeps the sender happy (no
 * BYE, every VERDICT taken), that its age bounds are freshcam-view's on the same loopback, that
 * stale notices are counted as rejected and answered, and that the stream reassembles however it
 * is cut. Run by ctest as `node test_freshcam.mjs BINDIR`.
 */
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as fc from '../../web/freshcam.js';
import { TMP, check, checkSpeed, connect, freePort, main, percentile, sender, sleep, viewer, waitListening } from './harness.mjs';

const nowNs = () => BigInt(Math.round(performance.now() * 1e6));

/* A Session over TCP for `seconds`; what it saw. */
async function runSession(port, { budgetMs = 80, seconds = 4, grainNs = 1000n } = {}) {
	const sock = await connect(port);
	const seen = { bounds: [], chunks: [], ended: null, hello: null, stale: 0, data: [] };
	const s = new fc.Session({
		send: (b) => sock.write(b),
		now: nowNs,
		grainNs,
		budgetMs,
		on: {
			hello: (h) => (seen.hello = h),
			frame: (f) => {
				if (f.accepted) seen.bounds.push(Number(f.boundNs) / 1e6);
				if (f.data !== undefined) seen.data.push({ seq: f.seq, doc: f.data, accepted: f.accepted });
			},
			end: (e) => (seen.ended = e),
		},
	});
	sock.on('data', (d) => {
		seen.chunks.push(Uint8Array.from(d));
		s.receive(d);
	});
	sock.on('close', () => s.lost('closed'));
	s.start();
	const tick = setInterval(() => s.tick(), 100);
	await sleep(seconds * 1000);
	clearInterval(tick);
	seen.endedBefore = seen.ended;
	seen.counts = { ...s.counts };
	s.close();
	sock.end();
	await sleep(200);
	return seen;
}

async function test_bounds_like_freshcam_view() {
	const port = await freePort();
	const snd = sender(port, ['--size', '640x360', '--fps', '30']);
	await waitListening(port);
	const view = viewer(port, ['--seconds', '5']);
	const js = await runSession(port, { seconds: 4 });
	await view.exited;
	const v = view.summary();
	check(js.hello && js.hello.width === 640 && js.hello.height === 360, "the sender's HELLO is read: 640x360", snd);
	check(js.endedBefore === null, `the sender never ended the page's session (${js.endedBefore && js.endedBefore.reason})`, snd);
	check(js.counts.accepted > 0 && js.bounds.length === js.counts.accepted, `frames accepted: ${js.counts.accepted}`, snd);
	checkSpeed(js.counts.accepted >= 60, `at least 15 fps accepted over 4 s: ${js.counts.accepted}`, snd);
	const p50 = percentile(js.bounds, 50);
	const vp50 = v.age_bound_ms_p50;
	console.log(`age bound p50: page ${p50.toFixed(3)} ms, freshcam-view ${vp50} ms`);
	checkSpeed(Math.abs(p50 - vp50) <= 5, `the page's bound p50 within 5 ms of freshcam-view's (${p50.toFixed(2)} vs ${vp50})`, snd, view);
	check(js.bounds.every((b) => b <= 80), 'no accepted frame over the budget', snd);
	await snd.stop();
	reassemble(js.chunks);
}

/* The same bytes cut into 1..97-byte pieces decode to the same messages in the same order. */
function reassemble(chunks) {
	const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
	let off = 0;
	for (const c of chunks) {
		all.set(c, off);
		off += c.length;
	}
	const types = (cut) => {
		const r = new fc.Reader();
		const out = [];
		for (let i = 0; i < all.length; ) {
			const n = Math.min(cut(i), all.length - i);
			r.push(all.subarray(i, i + n), BigInt(i));
			i += n;
			for (let m; (m = r.next()); ) out.push(m.type === fc.MSG.FRAME ? `F${m.msg.seq}:${m.msg.jpeg.length}` : m.type);
		}
		return out.join(',');
	};
	const whole = types(() => all.length);
	const cut = types((i) => 1 + ((i * 7919) % 97));
	check(whole.length > 0 && whole === cut, `the stream (${all.length} bytes) decodes the same however it is cut`);
}

async function test_stale_notices() {
	const port = await freePort();
	const snd = sender(port, ['--size', '640x360', '--fps', '30']);
	/* A 0.2 ms budget: every frame is older than that when it leaves, so the sender sends each as
	 * a stale notice, which the page must count as rejected and judge in a VERDICT. */
	const js = await runSession(port, { budgetMs: 0.2, seconds: 3 });
	check(js.endedBefore === null, `the sender kept the session up (${js.endedBefore && js.endedBefore.reason})`, snd);
	check(js.counts.stale > 0, `stale notices came and were counted: ${js.counts.stale}`, snd);
	check(js.counts.accepted === 0 && js.counts.rejected === js.counts.received, 'none of them shown: all rejected', snd);
	const lines = snd.stats().filter((l) => l.viewers && l.viewers.length);
	const last = lines.length ? lines[lines.length - 1].viewers[0] : null;
	check(last && last.too_old > 0, `the sender counts them as too old (${last && last.too_old})`, snd);
}

const hex = (s) => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/* docs/PROTOCOL.md section 7, byte for byte: what freshcam.js encodes is what the C encoder
 * wrote there, what it decodes is what the document says, and every prefix of a message is
 * "need more" (of 8, then of the whole), never an error. */
async function test_worked_example() {
	const hello = hex(`46 43 06 01 00 00 00 51 02 00 00 02 00 01 38 80 ${'00 '.repeat(9)}13 ${'00 '.repeat(44)}
			   66 72 65 73 68 63 61 6d 2d 76 69 65 77 20 30 2e 31 2e 30`);
	check(same(fc.encodeHello({ window: 2, budgetUs: 80000, name: 'freshcam-view 0.1.0' }), hello),
	      "the viewer's HELLO as in section 7");
	const request = hex('46 43 06 02 00 00 00 0c 00 00 00 01 00 00 4e 94 98 aa cd 15');
	check(same(fc.encodeRequest(1, 86400123456789n), request), 'REQUEST id 1 as in section 7');
	const verdict = hex(`46 43 06 04 00 00 00 19 00 00 00 01 00 00 00 00 00 00 00 2a 00 00 cd be
			     01 00 00 87 f0 00 00 04 b0`);
	check(same(fc.encodeVerdict({ id: 1, seq: 42n, boundNs: 52670495n, kind: 1, recvNs: 34800000n, gapNs: 1200000n }), verdict),
	      'VERDICT accepted, with recv_us and gap_us, as in section 7');
	const late = hex(`46 43 06 04 00 00 00 19 00 00 00 02 00 00 00 00 00 00 00 2b 00 01 b0 3e
			  02 00 00 00 00 00 00 00 00`);
	check(same(fc.encodeVerdict({ id: 2, seq: 43n, boundNs: 110654322n, kind: 2, recvNs: 0n, gapNs: 0n }), late),
	      'VERDICT late on the stale notice, as in section 7');
	const head = hex(`46 43 06 03 00 00 aa 29 00 00 00 01 00 00 4e 94 98 aa cd 15 00 00 00 00
			  00 bc 61 4e 00 00 00 00 01 31 2d 00 00 00 00 00 00 00 00 2a 02 80 01 68
			  05 00 02 d0 50 00 00 9d 29 23 cf 2d 00 18 ed bc 9a ef 82 ad 00`);
	const frame = new Uint8Array(head.length + 43500);
	frame.set(head);
	const d = fc.decode(frame);
	const f = d.msg;
	check(d.size === frame.length && d.type === fc.MSG.FRAME && f.id === 1 && f.t0 === 86400123456789n &&
	      f.held === 12345678n && f.age === 20000000n && f.seq === 42n && f.width === 640 &&
	      f.height === 360 && f.srcWidth === 1280 && f.srcHeight === 720 && f.quality === 80 &&
	      f.sendNs === 172800020000000n && f.sendRealNs === 1796299200020000000n && f.jpeg.length === 43500,
	      'the FRAME of section 7 decodes to its documented fields');
	let prefixes = true;
	for (let n = 0; n < request.length; n++) {
		const r = fc.decode(request.subarray(0, n));
		prefixes &&= !r.size && r.need === (n < 8 ? 8 : 20);
	}
	check(prefixes, 'every prefix of the REQUEST is "need more, 8", then "need more, 20"');
	/* Section 1's first exchange, through the page's Bound: the request's bound (with the rate
	 * slack of common/age.c) and the interval, which with one exchange adds nothing. */
	const b = new fc.Bound().frame(f, 86400123456789n, 86400168456789n);
	const slack = ((12345678n + 20000000n) * 500n + 999999n) / 1000000n;
	check(b.status === 'ok' && b.age.requestNs === 52654322n + slack && b.age.boundNs === b.age.requestNs &&
	      b.age.clockNs >= b.age.requestNs, `the bound of section 7: ${b.age && b.age.boundNs} ns`);
	let bad = false;
	try {
		fc.decode(hex('46 43 03'));
	} catch (e) {
		bad = e instanceof fc.ProtoError && /version 3/.test(e.message);
	}
	check(bad, 'another version is refused at its third byte, naming it');
}

/* Documents handed to the sender's --data-in come to the page with accepted frames, each once and
 * in order, parsed (docs/PROTOCOL.md, section 10), and the sender keeps the page's session. */
async function test_data_with_frames() {
	const port = await freePort();
	const sock = path.join(TMP, 'page-data.sock');
	const snd = sender(port, ['--size', '320x240', '--data-in', sock]);
	await waitListening(port);
	let feed = null;
	for (let i = 0; i < 50 && !feed; i++) {
		feed = await new Promise((resolve) => {
			const c = net.connect({ path: sock }, () => resolve(c));
			c.on('error', () => resolve(null));
		});
		if (!feed) await sleep(100);
	}
	check(feed !== null, 'the --data-in socket takes a connection', snd);
	let n = 0;
	const timer = setInterval(() => feed && feed.write(JSON.stringify({ n: n++, caf\u00e9: [1, 2] }) + '\n'), 100);
	const js = await runSession(port, { seconds: 3 });
	clearInterval(timer);
	if (feed) feed.end();
	const ns = js.data.map((d) => d.doc.n);
	check(js.endedBefore === null, 'the sender kept the session', snd);
	check(js.data.length >= 10 && js.data.every((d) => d.accepted), `documents with accepted frames: ${js.data.length}`, snd);
	check(ns.every((x, i) => i === 0 || x > ns[i - 1]), 'each once, in order', snd);
	check(js.data.every((d) => d.doc['caf\u00e9'][1] === 2), 'each parsed as sent', snd);
	await snd.stop();
}

main(test_worked_example, test_bounds_like_freshcam_view, test_stale_notices, test_data_with_frames);
