/*
 * bench/browser.mjs: the viewers of bench/browser.py that run in node. Once a second for SECONDS
 * it prints a JSON line: the figures and this host's wall-clock time of the reading ("wall", s
 * since 1970), so that the caller can keep the seconds it shares with freshcam-view.
 *
 *   chromium URL SECONDS     the live page at URL in Debian's chromium, headless, driven by
 *                            playwright-core from tests/web/node_modules (cd tests/web && npm ci
 *                            --ignore-scripts): the page's own figures (window.freshcam.figures,
 *                            web/page.js); at the end, {"decode": ...}: createImageBitmap's time
 *                            on the sender's /snapshot, one at a time, in the same page;
 *   ws URL SECONDS           web/freshcam.js's Session in node over a WebSocket to URL (the
 *                            sender's /ws bridge; node --experimental-websocket), and
 *   tcp HOST:PORT SECONDS    the same over TCP to the viewer port: no browser, no decoding, only
 *                            the true age when a FRAME's last byte came (figures.trueAge's
 *                            atSend, first, arrived and transit), to split the page's path.
 *
 * Exits 77 with the reason on stderr when it cannot run here, 1 on an error.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from '../web/freshcam.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const CHROMIUM = '/usr/bin/chromium';
const [mode, target, seconds] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const print = (figures) => console.log(JSON.stringify({ wall: Date.now() / 1000, figures }));

function skip(why) {
	console.error(`skipped: ${why}`);
	process.exit(77);
}

/* createImageBitmap on the sender's snapshot, 20 times one after another, in the page. */
async function decodeAlone(page) {
	return page.evaluate(async () => {
		let res;
		for (let i = 0; i < 5 && !(res && res.ok); i++) res = await fetch('/snapshot');
		if (!res.ok) return { error: `/snapshot: ${res.status} ${await res.text()}` };
		const blob = await res.blob();
		const ms = [];
		for (let i = 0; i < 20; i++) {
			const t = performance.now();
			const bmp = await createImageBitmap(blob);
			ms.push(performance.now() - t);
			bmp.close();
		}
		ms.sort((a, b) => a - b);
		return { p50Ms: ms[10], minMs: ms[0], bytes: blob.size };
	});
}

async function chromium() {
	if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (apt-get install chromium)`);
	let pw;
	try {
		pw = createRequire(path.join(HERE, '../tests/web/package.json'))('playwright-core');
	} catch (e) {
		skip('playwright-core is not installed (cd tests/web && npm ci --ignore-scripts)');
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-chromium-'));
	const ctx = await pw.chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run',
		       '--disable-component-update', '--disable-sync'],
	});
	try {
		const page = ctx.pages()[0] || (await ctx.newPage());
		await page.goto(target, { timeout: 10000 });
		const end = Date.now() + seconds * 1000;
		while (Date.now() < end) {
			await page.waitForTimeout(1000);
			print(await page.evaluate(() => window.freshcam && window.freshcam.figures));
		}
		console.log(JSON.stringify({ decode: await decodeAlone(page) }));
	} finally {
		await ctx.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
}

function percentile(xs, p) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

/*
 * A Session over a WebSocket or TCP: per frame accepted, the moments from its capture as the page
 * takes them (web/page.js, "the true age"), with node's own wall clock (timeOrigin + now).
 */
async function probe() {
	const nowNs = () => BigInt(Math.round(performance.now() * 1e6));
	const t = { atSend: [], first: [], arrived: [], transit: [] };
	let chunkAt = 0;
	let transport;
	const s = new Session({
		send: (b) => transport.send(b),
		now: nowNs,
		on: {
			frame: (f) => {
				if (!f.accepted || !f.sendRealNs) return;
				const capture = Number(f.sendRealNs - f.ageAtSendNs) / 1e6 - performance.timeOrigin;
				t.atSend.push(Number(f.ageAtSendNs) / 1e6);
				t.first.push(Number(f.firstNs) / 1e6 - capture);
				t.arrived.push(chunkAt - capture);
				t.transit.push(performance.timeOrigin + chunkAt - Number(f.sendRealNs) / 1e6);
			},
			end: (e) => console.error(`session ended: ${e.reason}`),
		},
	});
	const receive = (bytes) => {
		chunkAt = performance.now();
		s.receive(bytes);
	};
	transport = await (mode === 'ws' ? openWs(receive) : openTcp(receive));
	s.start();
	const tick = setInterval(() => s.tick(), 50);
	for (const end = Date.now() + seconds * 1000; Date.now() < end;) {
		await sleep(1000);
		print({
			shownFps: t.arrived.length,
			trueAge: t.arrived.length ? {
				frames: t.arrived.length,
				atSendP50Ms: percentile(t.atSend, 50),
				firstP50Ms: percentile(t.first, 50),
				arrivedP50Ms: percentile(t.arrived, 50),
				arrivedP95Ms: percentile(t.arrived, 95),
				transitP50Ms: percentile(t.transit, 50),
				transitMinMs: Math.min(...t.transit),
			} : null,
		});
		for (const k of Object.keys(t)) t[k] = [];
	}
	clearInterval(tick);
	s.close();
	transport.close();
}

function openWs(receive) {
	if (typeof WebSocket === 'undefined')
		skip('node has no WebSocket (node --experimental-websocket, node 20.10 or later)');
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(target, 'freshcam');
		ws.binaryType = 'arraybuffer';
		ws.onopen = () => resolve({ send: (b) => ws.send(b), close: () => ws.close(1000) });
		ws.onerror = (e) => reject(new Error(`WebSocket ${target}: ${e.message || 'error'}`));
		ws.onmessage = (e) => receive(new Uint8Array(e.data));
	});
}

function openTcp(receive) {
	const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.split(':').pop())];
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host, port, noDelay: true }, () =>
			resolve({ send: (b) => sock.write(b), close: () => sock.end() }));
		sock.once('error', reject);
		sock.on('data', (d) => receive(d));
	});
}

async function main() {
	if (!['chromium', 'ws', 'tcp'].includes(mode) || !target || !(seconds > 0))
		throw new Error('usage: node bench/browser.mjs chromium|ws|tcp URL|HOST:PORT SECONDS');
	await (mode === 'chromium' ? chromium() : probe());
	process.exit(0);
}

main().catch((e) => {
	console.error(`bench/browser.mjs: ${e.stack || e}`);
	process.exit(1);
});
