/*
 * The WebSocket bridge (sender/serve/ws.c) end to end: web/freshcam.js over a real WebSocket
 * (node's own client) to the bridge in tests/web/ws_host's lws loop, and through it to an
 * ordinary viewer session. Proves that frames flow and are accepted, that the browser's session
 * is listed as "ws:ADDR:PORT" and counts toward --max-viewers (the next one is told BYE 4 through
 * its WebSocket), and that both ends close cleanly whichever goes first.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as fc from '../../web/freshcam.js';
import { BIN, Skip, check, checkSpeed, connect, main, percentile, sleep, start } from './harness.mjs';

/* Node 20 has its WebSocket client behind a flag: run this script again with it. */
if (typeof WebSocket === 'undefined') {
	const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], {
		stdio: 'inherit',
	});
	process.exit(r.status ?? 1);
}

const WEB = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../web');
const nowNs = () => BigInt(Math.round(performance.now() * 1e6));

/* ws_host with its ports, and the latest viewer list and departures it printed. */
async function host(maxViewers = 8) {
	const exe = path.join(BIN, 'tests', 'ws_host');
	if (!fs.existsSync(exe)) throw new Skip(`${exe} is not built`);
	const h = start('ws_host', [exe, WEB, String(maxViewers)]);
	const end = Date.now() + 5000;
	while (Date.now() < end) {
		const m = h.output().match(/^ws_host: http (\d+) tcp (\d+)$/m);
		if (m) {
			h.http = Number(m[1]);
			h.tcp = Number(m[2]);
			return h;
		}
		await sleep(50);
	}
	throw new Error(`ws_host did not start:\n${h.output()}`);
}

/* The last complete "viewers" and "departed" lines ws_host printed. */
function listing(h) {
	const out = h.output();
	const v = [...out.matchAll(/^viewers \d+:(.*)$/gm)].pop();
	const d = [...out.matchAll(/^departed (\d+) others (\d+)$/gm)].pop();
	const viewers = v
		? v[1].split(';').map((s) => s.trim()).filter(Boolean).map((s) => {
				const m = s.match(/^(\S+) sent (\d+) accepted (\d+) too_old (\d+)$/);
				return { peer: m[1], sent: +m[2], accepted: +m[3] };
		  })
		: [];
	return { viewers, departed: d ? +d[1] : 0, others: d ? +d[2] : 0 };
}

async function until(cond, ms = 5000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (cond()) return true;
		await sleep(50);
	}
	return cond();
}

/* A page's session over a WebSocket to the bridge. */
function page(port) {
	const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'freshcam');
	const p = { ws, frames: 0, accepted: 0, bounds: [], ended: null, closed: null };
	ws.binaryType = 'arraybuffer';
	p.session = new fc.Session({
		send: (b) => ws.send(b),
		now: nowNs,
		grainNs: 1000n,
		on: {
			frame: (f) => {
				p.frames++;
				if (f.accepted) {
					p.accepted++;
					p.bounds.push(Number(f.boundNs) / 1e6);
				}
			},
			/* As the page does: a BYE read, the WebSocket closed. */
			end: (e) => {
				p.ended = e;
				if (ws.readyState === WebSocket.OPEN) ws.close(1000);
			},
		},
	});
	ws.onopen = () => p.session.start();
	ws.onmessage = (e) => p.session.receive(new Uint8Array(e.data));
	ws.onclose = (e) => {
		p.closed = { code: e.code, reason: e.reason };
		p.session.lost(`WebSocket closed (${e.code})`);
	};
	p.tick = setInterval(() => p.session.tick(), 100);
	p.stop = () => clearInterval(p.tick);
	return p;
}

async function test_frames_flow_and_browser_leaves_first() {
	const h = await host();
	const p = page(h.http);
	await sleep(3000);
	check(p.ended === null, `the session runs (${p.ended && p.ended.reason})`, h);
	check(p.accepted > 0, `frames came through the bridge and were accepted: ${p.accepted} of ${p.frames}`, h);
	checkSpeed(p.accepted >= 45, `at least 15 fps over 3 s: ${p.accepted}`, h);
	const l = listing(h);
	check(l.viewers.length === 1 && /^ws:127\.0\.0\.1:\d+$/.test(l.viewers[0].peer),
	      `listed as a viewer named ws:ADDR:PORT (${l.viewers.map((v) => v.peer)})`, h);
	check(l.viewers.length === 1 && l.viewers[0].accepted > 0, 'its verdicts reached the session', h);
	/* The browser goes without a BYE (a tab closed): the session must end, counted as departed. */
	p.stop();
	p.ws.close();
	check(await until(() => listing(h).departed === 1 && listing(h).viewers.length === 0),
	      'the session ended when the WebSocket closed', h);
	check(!/ERROR|AddressSanitizer|runtime error/.test(h.output()), 'no error in the host', h);
}

async function test_max_viewers_through_the_bridge() {
	const h = await host(1);
	const a = page(h.http);
	await until(() => a.accepted > 0);
	const b = page(h.http);
	await until(() => b.closed !== null);
	check(b.ended && /\(4/.test(b.ended.reason), `the second browser is told BYE 4 (${b.ended && b.ended.reason})`, h);
	check(b.closed !== null, `and its WebSocket closed (${b.closed && b.closed.code})`, h);
	check(a.ended === null && a.accepted > 0, 'the first one goes on', h);
	a.stop();
	b.stop();
}

async function test_sender_leaves_first() {
	const h = await host();
	const p = page(h.http);
	await until(() => p.accepted > 0);
	await h.stop();
	await until(() => p.closed !== null);
	check(p.ended && /sender ended the stream \(0/.test(p.ended.reason), `the page got the sender's BYE (${p.ended && p.ended.reason})`, h);
	check(p.closed && p.closed.code === 1000, `then a normal close (${p.closed && p.closed.code})`, h);
	p.stop();
}

/* The same Session over plain TCP to the same sender, for comparison. */
async function direct(port) {
	const sock = await connect(port);
	const p = { accepted: 0, bounds: [] };
	const s = new fc.Session({
		send: (b) => sock.write(b),
		now: nowNs,
		grainNs: 1000n,
		on: {
			frame: (f) => {
				if (!f.accepted) return;
				p.accepted++;
				p.bounds.push(Number(f.boundNs) / 1e6);
			},
		},
	});
	sock.on('data', (d) => s.receive(d));
	s.start();
	const tick = setInterval(() => s.tick(), 100);
	p.stop = () => {
		clearInterval(tick);
		s.close();
		sock.end();
	};
	return p;
}

/* The bridge's cost in age: a page over the WebSocket and one over TCP, side by side on one
 * sender, judge the same pictures; the bridge (a socketpair and the lws loop) must not add more
 * than a couple of milliseconds to the bound. */
async function test_bridge_adds_little_age() {
	const h = await host();
	const w = page(h.http);
	const t = await direct(h.tcp);
	await sleep(5000);
	w.stop();
	t.stop();
	const f = (xs) => `p50 ${percentile(xs, 50).toFixed(2)} p95 ${percentile(xs, 95).toFixed(2)} max ${Math.max(...xs).toFixed(2)} ms (${xs.length} frames)`;
	console.log(`age bound over the WebSocket bridge: ${f(w.bounds)}`);
	console.log(`age bound over TCP, same sender:     ${f(t.bounds)}`);
	check(w.accepted > 0 && t.accepted > 0, 'both got frames', h);
	checkSpeed(percentile(w.bounds, 50) <= percentile(t.bounds, 50) + 2,
		   'the bridge adds at most 2 ms to the median bound', h);
}

/* A WebSocket that opens and says nothing is a viewer that never says HELLO: its session gives
 * up after the HELLO timeout, and the WebSocket is closed with it. */
async function test_silent_websocket_dropped() {
	const h = await host();
	const ws = new WebSocket(`ws://127.0.0.1:${h.http}/ws`, 'freshcam');
	let closed = null;
	ws.onclose = (e) => (closed = e.code);
	const t0 = Date.now();
	await until(() => closed !== null, 12000);
	check(closed !== null, `the silent WebSocket was closed after ${((Date.now() - t0) / 1000).toFixed(1)} s (${closed})`, h);
	check(await until(() => listing(h).others === 1), 'and counted as a connection that never became a viewer', h);
}

main(test_frames_flow_and_browser_leaves_first, test_bridge_adds_little_age, test_silent_websocket_dropped, test_max_viewers_through_the_bridge, test_sender_leaves_first);
