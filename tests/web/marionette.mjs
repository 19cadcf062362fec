/*
 * A small client of Firefox's own remote protocol, Marionette, for Debian's firefox-esr:
 * playwright-core drives only its own patched Firefox, and geckodriver is not packaged. Starts
 * `firefox-esr --headless --marionette` on a fresh profile whose user.js picks the port and keeps
 * the browser offline-quiet, and speaks the protocol: over TCP, each message is `LENGTH:JSON`;
 * a command is [0, id, name, parameters], its response [1, id, error or null, result]; the server
 * first sends {"applicationType": "gecko", "marionetteProtocol": 3}.
 * (https://firefox-source-docs.mozilla.org/testing/marionette/Protocol.html)
 *
 * Every command has a time limit, and Firefox is killed when the test's processes are stopped
 * (harness.mjs's start), whatever happens. Node's standard library only.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TMP, freePort, sleep, start } from './harness.mjs';

export const FIREFOX = '/usr/bin/firefox-esr';
/* The W3C WebDriver name of an element reference in a result. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const COMMAND_MS = 20000;

/* Prefs that keep a test's Firefox quiet and offline: no updates, no telemetry, no studies, no
 * first-run or what's-new pages, no captive portal or connectivity probes, no safe-browsing
 * downloads; and the console on stdout, so the test can read the page's errors. */
function userJs(port) {
	const prefs = {
		'marionette.port': port,
		'app.update.disabledForTesting': true,
		'app.update.auto': false,
		'app.update.enabled': false,
		'app.normandy.enabled': false,
		'app.normandy.api_url': '',
		'app.shield.optoutstudies.enabled': false,
		'messaging-system.rsexperimentloader.enabled': false,
		'nimbus.rollouts.enabled': false,
		'browser.shell.checkDefaultBrowser': false,
		'browser.startup.homepage_override.mstone': 'ignore',
		'browser.startup.page': 0,
		'browser.startup.homepage': 'about:blank',
		'startup.homepage_welcome_url': 'about:blank',
		'startup.homepage_welcome_url.additional': '',
		'browser.aboutwelcome.enabled': false,
		'trailhead.firstrun.didSeeAboutWelcome': true,
		'browser.newtabpage.enabled': false,
		'browser.newtabpage.activity-stream.feeds.system.topstories': false,
		'browser.newtabpage.activity-stream.feeds.section.topstories': false,
		'browser.newtabpage.activity-stream.default.sites': '',
		'browser.topsites.contile.enabled': false,
		'browser.safebrowsing.malware.enabled': false,
		'browser.safebrowsing.phishing.enabled': false,
		'browser.safebrowsing.downloads.enabled': false,
		'browser.safebrowsing.blockedURIs.enabled': false,
		'browser.safebrowsing.provider.mozilla.updateURL': '',
		'browser.safebrowsing.provider.google4.updateURL': '',
		'browser.search.update': false,
		'browser.ping-centre.telemetry': false,
		'browser.tabs.warnOnClose': false,
		'browser.sessionstore.resume_from_crash': false,
		'datareporting.policy.dataSubmissionEnabled': false,
		'datareporting.healthreport.uploadEnabled': false,
		'toolkit.telemetry.enabled': false,
		'toolkit.telemetry.unified': false,
		'toolkit.telemetry.server': '',
		'toolkit.telemetry.archive.enabled': false,
		'extensions.update.enabled': false,
		'extensions.getAddons.cache.enabled': false,
		'extensions.blocklist.enabled': false,
		'network.captive-portal-service.enabled': false,
		'network.connectivity-service.enabled': false,
		'network.dns.disablePrefetch': true,
		'network.prefetch-next': false,
		'services.settings.server': '',
		'dom.push.enabled': false,
		'media.gmp-manager.url': '',
		'geo.provider.network.url': '',
		'signon.rememberSignons': false,
		'devtools.console.stdout.content': true,
	};
	return Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join('');
}

/* One Marionette connection: commands in, responses matched to them by id. */
class Connection {
	constructor(sock) {
		this.sock = sock;
		this.buf = Buffer.alloc(0);
		this.waiting = new Map();
		this.nextId = 1;
		this.greeting = new Promise((r) => (this.greeted = r));
		this.closed = null;
		sock.on('data', (d) => this.read(d));
		sock.on('close', () => this.fail(new Error('Firefox closed the Marionette connection')));
		sock.on('error', (e) => this.fail(e));
	}

	fail(e) {
		this.closed = e;
		for (const w of this.waiting.values()) w.reject(e);
		this.waiting.clear();
	}

	read(d) {
		this.buf = Buffer.concat([this.buf, d]);
		for (;;) {
			const colon = this.buf.indexOf(':');
			if (colon < 0) return;
			const len = Number(this.buf.subarray(0, colon).toString());
			if (!Number.isInteger(len) || colon > 10) return this.fail(new Error('Marionette: bad length prefix'));
			if (this.buf.length < colon + 1 + len) return;
			let msg;
			try {
				msg = JSON.parse(this.buf.subarray(colon + 1, colon + 1 + len).toString());
			} catch (e) {
				return this.fail(new Error(`Marionette: a message that is not JSON (${e.message})`));
			}
			this.buf = this.buf.subarray(colon + 1 + len);
			if (!Array.isArray(msg)) {
				this.greeted(msg);
				continue;
			}
			const [type, id, error, result] = msg;
			const w = this.waiting.get(id);
			if (type !== 1 || !w) continue;
			this.waiting.delete(id);
			if (error) w.reject(new Error(`Marionette ${w.name}: ${error.error}: ${error.message}`));
			else w.resolve(result);
		}
	}

	send(name, params = {}, ms = COMMAND_MS) {
		if (this.closed) return Promise.reject(this.closed);
		const id = this.nextId++;
		const body = Buffer.from(JSON.stringify([0, id, name, params]));
		this.sock.write(`${body.length}:`);
		this.sock.write(body);
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => {
				this.waiting.delete(id);
				reject(new Error(`Marionette ${name}: no answer in ${ms} ms`));
			}, ms);
			this.waiting.set(id, {
				name,
				resolve: (r) => (clearTimeout(t), resolve(r)),
				reject: (e) => (clearTimeout(t), reject(e)),
			});
		});
	}
}

/* A tab of the session: the Marionette commands the page checks need. */
class Tab {
	constructor(ff, handle) {
		this.ff = ff;
		this.handle = handle;
		this.logFrom = ff.proc.output().length; /* its errors are those logged since */
	}

	async cmd(name, params, ms) {
		await this.ff.focus(this.handle);
		return this.ff.conn.send(name, params, ms);
	}

	async goto(url) {
		this.origin = new URL(url).origin;
		await this.cmd('WebDriver:Navigate', { url });
	}

	/* The value of a JavaScript expression in the page (JSON-able). */
	async evaluate(expr) {
		const r = await this.cmd('WebDriver:ExecuteScript', { script: `return (${expr});`, args: [] });
		return r.value;
	}

	async element(selector) {
		const r = await this.cmd('WebDriver:FindElement', { using: 'css selector', value: selector });
		return r.value[ELEMENT];
	}

	/* A PNG of one element. */
	async screenshot(selector, file) {
		const id = await this.element(selector);
		const r = await this.cmd('WebDriver:TakeScreenshot', { id, full: false, hash: false });
		const png = Buffer.from(r.value, 'base64');
		if (file) fs.writeFileSync(file, png);
		return png;
	}

	async fill(selector, text) {
		const id = await this.element(selector);
		await this.cmd('WebDriver:ElementClear', { id });
		await this.cmd('WebDriver:ElementSendKeys', { id, text });
	}

	async click(selector) {
		await this.cmd('WebDriver:ElementClick', { id: await this.element(selector) });
	}

	async reload() {
		await this.cmd('WebDriver:Refresh', {});
	}

	async close() {
		await this.cmd('WebDriver:CloseWindow', {});
		this.ff.tabs = this.ff.tabs.filter((h) => h !== this.handle);
		this.ff.current = null;
	}

	/* From Firefox's stdout (devtools.console.stdout.content), which every tab shares, since the
	 * tab opened: uncaught errors name the script's address, so they are this page's by its
	 * origin; a console's strings come quoted ("console.error: \"...\""), the browser's own
	 * messages do not. */
	errors({ console }) {
		const lines = this.ff.proc.output().slice(this.logFrom).split('\n');
		return lines.filter((l) => (this.origin && l.startsWith(`JavaScript error: ${this.origin}/`)) ||
				      (console && /^console\.error: "/.test(l)));
	}
}

/* Firefox with a Marionette session; `close()` ends it. Throws when it does not start in time.
 * With `keep`, it outlives the test that started it (harness.mjs's start), for shared(). */
export async function launch({ startMs = 30000, keep = false } = {}) {
	const port = await freePort();
	const profile = fs.mkdtempSync(path.join(TMP, 'firefox-'));
	fs.writeFileSync(path.join(profile, 'user.js'), userJs(port));
	const args = [FIREFOX, '--headless', '--marionette', '--profile', profile, '-no-remote'];
	/* Its caches in the profile too: nothing of the test's Firefox stays in the user's home. */
	const env = { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1',
		      XDG_CACHE_HOME: path.join(profile, 'cache') };
	const proc = start('firefox', args, env, { keep });
	const end = Date.now() + startMs;
	let sock = null;
	while (!sock) {
		if (proc.p.exitCode !== null) throw new Error(`firefox-esr exited (${proc.p.exitCode}):\n${proc.output()}`);
		if (Date.now() > end) throw new Error(`firefox-esr: no Marionette on port ${port} after ${startMs} ms`);
		sock = await new Promise((resolve) => {
			const s = net.connect(port, '127.0.0.1', () => resolve(s));
			s.once('error', () => resolve(null));
		});
		if (!sock) await sleep(100);
	}
	const conn = new Connection(sock);
	const hello = await Promise.race([conn.greeting, sleep(Math.max(0, end - Date.now())).then(() => null)]);
	if (!hello || hello.marionetteProtocol !== 3)
		throw new Error(`firefox-esr: unexpected Marionette greeting ${JSON.stringify(hello)}`);
	/* Marionette takes the capabilities themselves (not WebDriver's {capabilities: {alwaysMatch}}
	 * over HTTP, which it ignores). Insecure certificates: an https FC_PAGE_URL may have a
	 * self-signed one, as behind tests/e2e/test_https.py's nginx. */
	const session = await conn.send('WebDriver:NewSession', { acceptInsecureCerts: true });
	if (!session.capabilities.acceptInsecureCerts)
		throw new Error('firefox-esr: the Marionette session does not accept insecure certificates');
	const anchor = (await conn.send('WebDriver:GetWindowHandle', {})).value;
	const ff = {
		proc,
		conn,
		version: session.capabilities.browserVersion,
		current: anchor,
		tabs: [],
		alive: () => proc.p.exitCode === null && proc.p.signalCode === null && !conn.closed,
		async focus(handle) {
			if (this.current === handle) return;
			await conn.send('WebDriver:SwitchToWindow', { handle, focus: true });
			this.current = handle;
		},
		/* A new tab each call; the first, blank, stays as the session's anchor. */
		async newPage() {
			const r = await conn.send('WebDriver:NewWindow', { type: 'tab' });
			this.tabs.push(r.handle);
			return new Tab(this, r.handle);
		},
		/* Closes the tabs opened since, for the next test to start from a blank browser. */
		async release() {
			for (const handle of this.tabs.splice(0)) {
				await this.focus(handle).catch(() => {});
				await conn.send('WebDriver:CloseWindow', {}).catch(() => {});
			}
			this.current = null;
			await this.focus(anchor);
		},
		async close() {
			await conn.send('Marionette:Quit', { flags: ['eForceQuit'] }, 5000).catch(() => {});
			sock.destroy();
			await proc.stop(5000);
		},
	};
	return ff;
}

/* One Firefox for all the tests of a run (starting one takes seconds): each test's `close()`
 * closes only its tabs; harness.mjs's main ends Firefox after the last test. A Firefox that died
 * is started anew. */
let sharedFirefox = null;
export async function shared() {
	if (!sharedFirefox || !sharedFirefox.alive()) sharedFirefox = await launch({ keep: true });
	const ff = sharedFirefox;
	return { newPage: () => ff.newPage(), close: () => ff.release(), version: ff.version };
}
