/*
 * The live page's checks, whatever the browser: test_page.mjs runs them in Chromium (through
 * playwright-core), test_page_firefox.mjs in Firefox (through marionette.mjs). Each browser comes
 * as `open()`, resolving to { newPage(), close() }, and each page as a small interface both
 * drivers provide:
 *   goto(url), evaluate(expression) -> its JSON-able value, screenshot(selector, file) -> PNG,
 *   fill(selector, text), click(selector), reload(), close(), errors({ console }) -> the page's
 *   uncaught errors, and with `console` its console's errors too.
 *
 * What they prove: the page shows the stream (two screenshots of its canvas a second apart
 * differ and are not blank), its own figures report at least 20 fps shown (a speed check) and no
 * frame shown over the budget, and NO SIGNAL appears, with its reason, when the sender stops.
 * With a passphrase on the sender: the page asks for it, a wrong one shows nothing and says why,
 * the right one shows the stream, and a reload goes straight in on the session cookie.
 *
 * Where the page comes from: FC_PAGE_URL when it is a URL (the NO SIGNAL part then skips: the
 * test cannot stop that sender; an https URL may have a self-signed certificate, as behind
 * tests/e2e/test_https.py's nginx); else freshcam-send --http when it has that option; else
 * FC_PAGE_URL=ws_host for tests/web/ws_host, the bridge in an lws context of the tests' own.
 * Without any it skips.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Skip, TMP, check, checkSpeed, freePort, sleep, start, waitListening } from './harness.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const WEB = path.resolve(HERE, '../../web');
const PASS = 'correct horse battery staple page';
/* Of the frames drawn, how many may pass the budget during drawImage on a busy machine. */
const MAX_CROSSED_PCT = 2;

/* Polls a page expression until it is truthy or `ms` pass; its last value. */
export async function until(page, expr, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await page.evaluate(expr).catch(() => null);
		if (v || Date.now() > end) return v;
		await sleep(100);
	}
}

const text = (page, sel) => page.evaluate(`document.querySelector(${JSON.stringify(sel)}).innerText`).catch(() => '');
const figures = (page) => page.evaluate('JSON.parse(JSON.stringify(window.freshcam.figures))');

/* The page's URL and, when this test started it, the process serving it. */
async function server() {
	const env = process.env.FC_PAGE_URL;
	if (env && env !== 'ws_host') return { url: env, proc: null };
	const help = spawnSync(path.join(BIN, 'freshcam-send'), ['--help'], { encoding: 'utf8' });
	if (/--http/.test(help.stdout || '')) {
		const [http, tcp] = [await freePort(), await freePort()];
		const p = start('send', [path.join(BIN, 'freshcam-send'), '--size', '640x360', '--listen',
					 `127.0.0.1:${tcp}`, '--http', `127.0.0.1:${http}`]);
		await waitListening(http);
		return { url: `http://127.0.0.1:${http}/`, proc: p };
	}
	if (env === 'ws_host') {
		const exe = path.join(BIN, 'tests', 'ws_host');
		if (!fs.existsSync(exe)) throw new Skip(`${exe} is not built`);
		const p = start('ws_host', [exe, WEB]);
		for (let i = 0; i < 100 && !/^ws_host: http \d+/m.test(p.output()); i++) await sleep(50);
		const m = p.output().match(/^ws_host: http (\d+)/m);
		if (!m) throw new Error(`ws_host did not start:\n${p.output()}`);
		return { url: `http://127.0.0.1:${m[1]}/`, proc: p };
	}
	throw new Skip('freshcam-send has no --http yet (the http branch) and FC_PAGE_URL is not set ' +
		       '(a page URL, or "ws_host" for tests/web/ws_host)');
}

/* The canvas's pixels: whether they vary (not one flat colour), and a screenshot of it. */
async function look(page, name) {
	const spread = await page.evaluate(`(() => {
		const c = document.getElementById('canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let min = 255, max = 0;
		for (let i = 0; i < d.length; i += 4 * 97) {
			const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
			if (y < min) min = y;
			if (y > max) max = y;
		}
		return max - min;
	})()`);
	const png = await page.screenshot('#canvas', path.join(TMP, `${name}.png`));
	return { spread, png };
}

/* The figures' speed checks, the same in each browser. */
function speed(fig, ps) {
	checkSpeed(fig.shownFps >= 20, `at least 20 fps shown: ${fig.shownFps && fig.shownFps.toFixed(1)}`, ...ps);
	/* The promise: a frame is drawn only when its bound plus the time since it came is within
	 * the budget, checked just before drawImage. How many then crossed the budget while being
	 * drawn (shownOverBudget) depends on the machine's load: a floor, as a speed check. 0 on
	 * an idle machine; 1 of 147 once in Firefox under a load of 11 on two cores. */
	check(fig.shown > 0 && fig.maxShownBoundMs <= fig.budgetMs,
	      `no frame shown over the budget (largest bound ${fig.maxShownBoundMs} ms of ${fig.budgetMs})`, ...ps);
	const crossed = fig.shown ? (100 * fig.shownOverBudget) / fig.shown : 0;
	checkSpeed(crossed <= MAX_CROSSED_PCT,
		   `at most ${MAX_CROSSED_PCT}% crossed the budget while being drawn: ${fig.shownOverBudget} of ` +
		   `${fig.shown} (${crossed.toFixed(1)}%; more means drawImage itself was held up)`, ...ps);
	/* The true age (sender on this host: one wall clock) against the bound: each drawn frame's
	 * bound is at least its true age when its last byte came, so their p50s are too (the same
	 * frames); and the moments come in order. Comparisons with the sender's clock hold to
	 * within the page's wall clock's error, which the page measures against Date.now(): a
	 * 100 us grain in Chromium, but Firefox's timeOrigin was seen 2 ms off. */
	const ta = fig.trueAge;
	const tol = ta ? Math.max(ta.grainUs / 1000, Math.abs(ta.clockMinMs), Math.abs(ta.clockMaxMs)) : 0;
	check(ta && ta.arrivedP50Ms <= fig.boundP50Ms + tol && ta.atSendP50Ms <= ta.arrivedP50Ms + tol &&
	      ta.arrivedP50Ms <= ta.decodedP50Ms && ta.decodedP50Ms <= ta.drawnP50Ms,
	      `the true age is below the bound and in order, to within the page's clock error ` +
	      `(${tol.toFixed(2)} ms): ${JSON.stringify(ta)}`, ...ps);
}

/* A budget no frame can meet: every one is a stale notice, and the banner says why. */
async function strictBudget(browser, url, ps) {
	const strict = await browser.newPage();
	await strict.goto(new URL('?max-age=0.2', url).href);
	await until(strict, 'window.freshcam && window.freshcam.figures.stall', 5000);
	await sleep(1500);
	const sf = await figures(strict);
	const sb = await text(strict, '#banner');
	check(sf.shown === 0 && sf.rejected > 0 && sf.stale > 0,
	      `a 0.2 ms budget shows nothing: ${sf.rejected} rejected, ${sf.stale} stale notices`, ...ps);
	check(/ALL FRAMES LATE/.test(sb) && /budget 0\.2 ms/.test(sb), `and says so: ${JSON.stringify(sb)}`, ...ps);
	await strict.close();
}

/* The page shows the stream, its figures, the strict budget's banner, and NO SIGNAL. */
export async function pageShowsTheStream(open, name) {
	const { url, proc } = await server();
	const browser = await open();
	const ps = proc ? [proc] : [];
	try {
		const page = await browser.newPage();
		await page.goto(url);
		await until(page, 'window.freshcam && window.freshcam.figures.shown > 30', 10000);
		await sleep(2500); /* two whole seconds of figures */
		const a = await look(page, `${name}-first`);
		await sleep(1000);
		const b = await look(page, `${name}-second`);
		const fig = await figures(page);
		console.log(`page figures in ${name}: ${JSON.stringify(fig)}`);
		const errors = page.errors({ console: true });
		check(errors.length === 0, `no error on the page (${errors.join(' | ')})`, ...ps);
		check(a.spread > 20 && b.spread > 20, `the canvas is not blank (spread ${a.spread}, ${b.spread})`, ...ps);
		check(!a.png.equals(b.png), 'two screenshots a second apart differ', ...ps);
		check(fig.shown > 0, `frames shown: ${fig.shown}`, ...ps);
		speed(fig, ps);
		check(/shown .* fps, rejected .* fps \| age bound p50/.test(await text(page, '#figures')),
		      'the figures line is up', ...ps);
		await strictBudget(browser, url, ps);
		if (!proc) throw new Skip('NO SIGNAL: the sender at FC_PAGE_URL is not ours to stop');
		await proc.stop();
		await until(page, "window.freshcam.figures.state === 'stalled'", 5000);
		const banner = await text(page, '#banner');
		console.log(`banner: ${JSON.stringify(banner)}`);
		check(/NO SIGNAL/.test(banner) && /sender lost/.test(banner), 'NO SIGNAL with its reason when the sender stops', ...ps);
		check(/sender ended the stream \(0/.test(banner), "the reason is the sender's goodbye, through the bridge", ...ps);
		await page.screenshot('body', path.join(TMP, `${name}-no-signal.png`));
	} finally {
		await browser.close();
	}
}

/* Types a passphrase into the page's form and waits for its verdict (figures.auth). */
async function give(page, passphrase) {
	await until(page, "!document.getElementById('login').hidden", 10000);
	await page.fill('#passphrase', passphrase);
	const t0 = Date.now();
	await page.click('#login button');
	await until(page, "window.freshcam.figures.auth !== 'checking the passphrase'", 15000);
	return Date.now() - t0;
}

/* With a passphrase: asked for, a wrong one shows nothing and says why, the right one shows. */
export async function pageWithPassphrase(open, name) {
	const help = spawnSync(path.join(BIN, 'freshcam-send'), ['--help'], { encoding: 'utf8' });
	if (!/--print-http-token/.test(help.stdout || '')) throw new Skip('freshcam-send has no passphrase for HTTP yet');
	const [http, tcp] = [await freePort(), await freePort()];
	const proc = start('send-pass', [path.join(BIN, 'freshcam-send'), '--size', '640x360', '--listen',
					 `127.0.0.1:${tcp}`, '--http', `127.0.0.1:${http}`],
			   { ...process.env, FRESHCAM_PASSPHRASE: PASS });
	/* The sender derives its keys from the passphrase on purpose slowly (seconds on a busy
	 * machine) before it listens: the browser starts meanwhile. */
	const [browser] = await Promise.all([open(), waitListening(http, 30000)]);
	try {
		const page = await browser.newPage();
		await page.goto(`http://127.0.0.1:${http}/`);
		await until(page, "!document.getElementById('login').hidden", 10000);
		await until(page, 'window.freshcam.figures.stall', 5000);
		const asked = await text(page, '#banner');
		check(/PASSPHRASE NEEDED/.test(asked), `the page asks for the passphrase: ${JSON.stringify(asked)}`, proc);
		const wrongMs = await give(page, 'not the passphrase');
		await sleep(1000);
		let fig = await figures(page);
		const banner = await text(page, '#banner');
		check(fig.auth === 'wrong passphrase' && fig.shown === 0 && fig.received === 0,
		      `a wrong passphrase shows nothing (${fig.shown} shown, ${fig.received} received; ${fig.auth}, ${wrongMs} ms)`, proc);
		check(/wrong passphrase/.test(banner), `and says why: ${JSON.stringify(banner)}`, proc);
		const rightMs = await give(page, PASS);
		await until(page, 'window.freshcam.figures.shown > 30', 10000);
		await sleep(2500);
		fig = await figures(page);
		console.log(`with the passphrase in ${name} (${rightMs} ms to prove it): ${JSON.stringify(fig)}`);
		const a = await look(page, `${name}-pass-first`);
		await sleep(1000);
		const b = await look(page, `${name}-pass-second`);
		check(fig.auth === null && fig.shown > 30, `the right passphrase shows the stream (${fig.shown} shown)`, proc);
		check(a.spread > 20 && !a.png.equals(b.png), 'its canvas is live', proc);
		speed(fig, [proc]);
		await page.reload();
		await until(page, 'window.freshcam && window.freshcam.figures.shown > 10', 10000);
		fig = await figures(page);
		const hidden = await page.evaluate("document.getElementById('login').hidden");
		check(fig.shown > 10 && hidden, `a reload goes straight in on the session cookie (${fig.shown} shown)`, proc);
		/* Uncaught only: the browser logs the 401 of the wrong passphrase as a console error. */
		const errors = page.errors({ console: false });
		check(errors.length === 0, `no error on the page (${errors.join(' | ')})`, proc);
		check(!proc.output().includes(PASS), 'the passphrase shows nowhere in the log', proc);
	} finally {
		await browser.close();
	}
}
