/*
 * The live page (web/) in a real browser: Debian's chromium, headless, driven by playwright-core
 * (tests/web/package.json; no browser download). The checks are pagechecks.mjs's, the same as
 * test_page_firefox.mjs makes in Firefox: the stream shows, its figures, NO SIGNAL, and the
 * passphrase. This file only opens Chromium and wraps its pages in pagechecks.mjs's interface.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Skip, TMP, main } from './harness.mjs';
import { pageShowsTheStream, pageWithPassphrase } from './pagechecks.mjs';

const CHROMIUM = '/usr/bin/chromium';

/* A playwright page as pagechecks.mjs's page; errors are collected from the moment it opens. */
function wrap(page) {
	const uncaught = [];
	const consoled = [];
	page.on('console', (m) => /error/i.test(m.text()) && consoled.push(m.text()));
	page.on('pageerror', (e) => uncaught.push(`page error: ${e.message}`));
	return {
		goto: (url) => page.goto(url),
		evaluate: (expr) => page.evaluate(expr),
		screenshot: (sel, file) => page.locator(sel).screenshot({ path: file, timeout: 10000 }),
		fill: (sel, text) => page.fill(sel, text, { timeout: 10000 }),
		click: (sel) => page.click(sel, { timeout: 10000 }),
		reload: () => page.reload({ timeout: 10000 }),
		close: () => page.close(),
		errors: ({ console }) => (console ? uncaught.concat(consoled) : uncaught),
	};
}

async function chromium() {
	if (!fs.existsSync(CHROMIUM)) throw new Skip(`${CHROMIUM} is missing (apt-get install chromium)`);
	let pw;
	try {
		pw = await import('playwright-core');
	} catch (e) {
		throw new Skip('playwright-core is not installed (cd tests/web && npm ci --ignore-scripts)');
	}
	const profile = fs.mkdtempSync(path.join(TMP, 'chromium-'));
	const ctx = await pw.chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		ignoreHTTPSErrors: true,
		timeout: 30000,
		args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run',
		       '--disable-component-update', '--disable-sync'],
	});
	return { newPage: async () => wrap(await ctx.newPage()), close: () => ctx.close() };
}

main(
	function test_page_shows_the_stream() {
		return pageShowsTheStream(chromium, 'chromium');
	},
	function test_page_with_passphrase() {
		return pageWithPassphrase(chromium, 'chromium');
	},
);
