/*
 * web/freshcam.js against a real freshcam-send, over a plain TCP socket (the bytes are the same
 * as over the WebSocket): proves that the page's side of the protocol keeps the sender happy (no
 * BYE, every VERDICT taken), that its age bounds are freshcam-view's on the same loopback, that
 * stale notices are counted as rejected and answered, and that the stream reassembles however it
 * is cut. Run by ctest as `node test_freshcam.mjs BINDIR`.
 */
import { performance } from 'node:perf_hooks';
import * as fc from '../../web/freshcam.js';
import { check, checkSpeed, connect, freePort, main, percentile, sender, sleep, viewer, waitListening } from './harness.mjs';

const nowNs = () => BigInt(Math.round(performance.now() * 1e6));

/* A Session over TCP for `seconds`; what it saw. */
async function runSession(port, { budgetMs = 80, seconds = 4, grainNs = 1000n } = {}) {
	const sock = await connect(port);
	const seen = { bounds: [], chunks: [], ended: null, hello: null, stale: 0 };
	const s = new fc.Session({
		send: (b) => sock.write(b),
		now: nowNs,
		grainNs,
		budgetMs,
		on: {
			hello: (h) => (seen.hello = h),
			frame: (f) => {
				if (f.accepted) seen.bounds.push(Number(f.boundNs) / 1e6);
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

main(test_bounds_like_freshcam_view, test_stale_notices);
