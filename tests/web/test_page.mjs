/*
 * The live page (web/) in a real browser: Debian's chromium, headless, driven by playwright-core
 * (tests/web/package.json; no browser download). Proves that the page shows the stream (two
 * screenshots of its canvas a second apart differ and are not blank), that its own figures report
 * at least 20 fps shown (a speed check) and no frame shown over the budget, and that NO SIGNAL
 * appears, with its reason, when the sender stops. With a passphrase on the sender: the page asks
 * for it, a wrong one shows nothing and says why, the right one shows the stream, and a reload
 * goes straight in on the session cookie.
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
import { BIN, Skip, TMP, check, checkSpeed, freePort, main, sleep, start, waitListening } from './harness.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const WEB = path.resolve(HERE, '../../web');
const CHROMIUM = '/usr/bin/chromium';

async function browser() {
	if (!fs.existsSync(CHROMIUM)) throw new Skip(`${CHROMIUM} is missing (apt-get install chromium)`);
	let pw;
	try {
		pw = await import('playwright-core');
	} catch (e) {
		throw new Skip('playwright-core is not installed (cd tests/web && npm ci --ignore-scripts)');
	}
	const profile = fs.mkdtempSync(path.join(TMP, 'chromium-'));
	return pw.chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		ignoreHTTPSErrors: true,
		args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run',
		       '--disable-component-update', '--disable-sync'],
	});
}

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
	const spread = await page.evaluate(() => {
		const c = document.getElementById('canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let min = 255, max = 0;
		for (let i = 0; i < d.length; i += 4 * 97) {
			const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
			if (y < min) min = y;
			if (y > max) max = y;
		}
		return max - min;
	});
	const png = await page.locator('#canvas').screenshot({ path: path.join(TMP, `${name}.png`) });
	return { spread, png };
}

async function test_page_shows_the_stream() {
	const { url, proc } = await server();
	const ctx = await browser();
	const ps = proc ? [proc] : [];
	try {
		const page = await ctx.newPage();
		const logs = [];
		page.on('console', (m) => logs.push(m.text()));
		page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
		await page.goto(url);
		await page.waitForFunction(() => window.freshcam && window.freshcam.figures.shown > 30, null,
					   { timeout: 10000 }).catch(() => {});
		await sleep(2500); /* two whole seconds of figures */
		const a = await look(page, 'first');
		await sleep(1000);
		const b = await look(page, 'second');
		const fig = await page.evaluate(() => ({ ...window.freshcam.figures }));
		console.log(`page figures: ${JSON.stringify(fig)}`);
		check(logs.every((l) => !/error/i.test(l)), `no error on the page (${logs.join(' | ')})`, ...ps);
		check(a.spread > 20 && b.spread > 20, `the canvas is not blank (spread ${a.spread}, ${b.spread})`, ...ps);
		check(!a.png.equals(b.png), 'two screenshots a second apart differ', ...ps);
		check(fig.shown > 0, `frames shown: ${fig.shown}`, ...ps);
		checkSpeed(fig.shownFps >= 20, `at least 20 fps shown: ${fig.shownFps && fig.shownFps.toFixed(1)}`, ...ps);
		/* The promise: a frame is drawn only when its bound plus the time since it came is
		 * within the budget, checked just before drawImage. How many then crossed the budget
		 * while being drawn (shownOverBudget) depends on the machine's load: shown, and counted
		 * as a speed check only. */
		check(fig.shown > 0 && fig.maxShownBoundMs <= fig.budgetMs,
		      `no frame shown over the budget (largest bound ${fig.maxShownBoundMs} ms of ${fig.budgetMs})`, ...ps);
		checkSpeed(fig.shownOverBudget === 0,
			   `none crossed the budget while being drawn (${fig.shownOverBudget} of ${fig.shown})`, ...ps);
		check(/shown .* fps, rejected .* fps \| age bound p50/.test(await page.locator('#figures').innerText()),
		      'the figures line is up', ...ps);
		/* A budget no frame can meet: every one is a stale notice, and the banner says why. */
		const strict = await ctx.newPage();
		await strict.goto(new URL('?max-age=0.2', url).href);
		await strict.waitForFunction(() => window.freshcam && window.freshcam.figures.stall, null, { timeout: 5000 }).catch(() => {});
		await sleep(1500);
		const sf = await strict.evaluate(() => ({ ...window.freshcam.figures }));
		const sb = await strict.locator('#banner').innerText().catch(() => '');
		check(sf.shown === 0 && sf.rejected > 0 && sf.stale > 0, `a 0.2 ms budget shows nothing: ${sf.rejected} rejected, ${sf.stale} stale notices`, ...ps);
		check(/ALL FRAMES LATE/.test(sb) && /budget 0\.2 ms/.test(sb), `and says so: ${JSON.stringify(sb)}`, ...ps);
		await strict.close();
		if (!proc) throw new Skip('NO SIGNAL: the sender at FC_PAGE_URL is not ours to stop');
		await proc.stop();
		await page.waitForFunction(() => window.freshcam.figures.state === 'stalled', null, { timeout: 5000 }).catch(() => {});
		const banner = await page.locator('#banner').innerText().catch(() => '');
		console.log(`banner: ${JSON.stringify(banner)}`);
		check(/NO SIGNAL/.test(banner) && /sender lost/.test(banner), 'NO SIGNAL with its reason when the sender stops', ...ps);
		check(/sender ended the stream \(0/.test(banner), "the reason is the sender's goodbye, through the bridge", ...ps);
		await page.screenshot({ path: path.join(TMP, 'no-signal.png') });
	} finally {
		await ctx.close();
	}
}

const PASS = 'correct horse battery staple page';

/* Types a passphrase into the page's form and waits for its verdict (figures.auth). */
async function give(page, passphrase) {
	await page.locator('#login').waitFor({ state: 'visible', timeout: 10000 });
	await page.fill('#passphrase', passphrase);
	const t0 = Date.now();
	await page.click('#login button');
	await page.waitForFunction(() => window.freshcam.figures.auth !== 'checking the passphrase', null,
				   { timeout: 15000 }).catch(() => {});
	return Date.now() - t0;
}

async function test_page_with_passphrase() {
	const help = spawnSync(path.join(BIN, 'freshcam-send'), ['--help'], { encoding: 'utf8' });
	if (!/--print-http-token/.test(help.stdout || ''))
		throw new Skip('freshcam-send has no passphrase for HTTP yet');
	const [http, tcp] = [await freePort(), await freePort()];
	const proc = start('send-pass', [path.join(BIN, 'freshcam-send'), '--size', '640x360', '--listen',
					 `127.0.0.1:${tcp}`, '--http', `127.0.0.1:${http}`],
			   { ...process.env, FRESHCAM_PASSPHRASE: PASS });
	await waitListening(http, 30000); /* it derives two keys first: seconds on a busy machine */
	const url = `http://127.0.0.1:${http}/`;
	const ctx = await browser();
	try {
		const page = await ctx.newPage();
		const logs = [];
		page.on('pageerror', (e) => logs.push(`page error: ${e.message}`));
		await page.goto(url);
		await page.locator('#login').waitFor({ state: 'visible', timeout: 10000 });
		await page.waitForFunction(() => window.freshcam.figures.stall, null, { timeout: 5000 }).catch(() => {});
		const asked = await page.locator('#banner').innerText().catch(() => '');
		check(/PASSPHRASE NEEDED/.test(asked), `the page asks for the passphrase: ${JSON.stringify(asked)}`, proc);
		const wrongMs = await give(page, 'not the passphrase');
		await sleep(1000);
		let fig = await page.evaluate(() => ({ ...window.freshcam.figures }));
		const banner = await page.locator('#banner').innerText().catch(() => '');
		check(fig.auth === 'wrong passphrase' && fig.shown === 0 && fig.received === 0,
		      `a wrong passphrase shows nothing (${fig.shown} shown, ${fig.received} received; ${fig.auth}, ${wrongMs} ms)`, proc);
		check(/wrong passphrase/.test(banner), `and says why: ${JSON.stringify(banner)}`, proc);
		const rightMs = await give(page, PASS);
		await page.waitForFunction(() => window.freshcam.figures.shown > 30, null, { timeout: 10000 }).catch(() => {});
		await sleep(2500);
		fig = await page.evaluate(() => ({ ...window.freshcam.figures }));
		console.log(`with the passphrase (${rightMs} ms to prove it): ${JSON.stringify(fig)}`);
		const a = await look(page, 'pass-first');
		await sleep(1000);
		const b = await look(page, 'pass-second');
		check(fig.auth === null && fig.shown > 30 && fig.shownOverBudget === 0,
		      `the right passphrase shows the stream (${fig.shown} shown, none over budget)`, proc);
		check(a.spread > 20 && !a.png.equals(b.png), 'its canvas is live', proc);
		checkSpeed(fig.shownFps >= 20, `at least 20 fps shown: ${fig.shownFps && fig.shownFps.toFixed(1)}`, proc);
		await page.reload();
		await page.waitForFunction(() => window.freshcam && window.freshcam.figures.shown > 10, null,
					   { timeout: 10000 }).catch(() => {});
		fig = await page.evaluate(() => ({ ...window.freshcam.figures }));
		check(fig.shown > 10 && await page.locator('#login').isHidden(),
		      `a reload goes straight in on the session cookie (${fig.shown} shown)`, proc);
		check(logs.length === 0, `no error on the page (${logs.join(' | ')})`, proc);
		check(!proc.output().includes(PASS), 'the passphrase shows nowhere in the log', proc);
	} finally {
		await ctx.close();
	}
}

main(test_page_shows_the_stream, test_page_with_passphrase);
