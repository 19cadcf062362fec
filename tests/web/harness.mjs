/*
 * What the web tests share (tests/e2e/fc.py's ways in node): processes with a hard time limit and
 * a log each, free loopback ports, checks that record a failure and go on, skips that exit 77.
 * Node's standard library only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(process.argv[2] || 'build');
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-web-'));
/* The build's -DFC_SANITIZE ("address", "thread" or ""), from its CMakeCache.txt. */
export const SANITIZE = (() => {
	try {
		const m = fs.readFileSync(path.join(BIN, 'CMakeCache.txt'), 'utf8').match(/^FC_SANITIZE:[^=]*=(.*)$/m);
		return m ? m[1].trim() : '';
	} catch (e) {
		return '';
	}
})();
const procs = [];
const failures = [];
/* However node ends (an error outside the tests, ctest's timeout, ^C), no child outlives it. */
process.on('exit', () => procs.forEach((p) => p.p.exitCode === null && p.p.signalCode === null && p.p.kill('SIGKILL')));
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(128 + os.constants.signals[sig]));

export class Skip extends Error {}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

/* A child process with its output in TMP/name.log, killed at the end of its test whatever
 * happens, or with `keep` at the end of them all (a browser the tests share). */
export function start(name, args, env, { keep = false } = {}) {
	const logPath = path.join(TMP, `${name}.log`);
	const log = fs.openSync(logPath, 'w');
	const p = spawn(args[0], args.slice(1), { stdio: ['ignore', log, log], env: env || process.env });
	const proc = {
		name,
		args,
		p,
		keep,
		exited: new Promise((r) => p.on('exit', (code, sig) => r(code ?? sig))),
		output: () => fs.readFileSync(logPath, 'utf8'),
		stop: async (ms = 10000) => {
			if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
			const t = setTimeout(() => p.kill('SIGKILL'), ms);
			const rc = await proc.exited;
			clearTimeout(t);
			return rc;
		},
	};
	procs.push(proc);
	return proc;
}

export function sender(port, extra = [], name = 'send') {
	const json = path.join(TMP, `${name}.jsonl`);
	const args = [path.join(BIN, 'freshcam-send'), '--listen', `127.0.0.1:${port}`, '--stats-json', json];
	const proc = start(name, args.concat(extra));
	proc.stats = () =>
		fs.existsSync(json)
			? fs.readFileSync(json, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
			: [];
	return proc;
}

export function viewer(port, extra = [], name = 'view') {
	const json = path.join(TMP, `${name}.jsonl`);
	const args = [path.join(BIN, 'freshcam-view'), '--headless', `127.0.0.1:${port}`, '--stats-json', json];
	const proc = start(name, args.concat(extra));
	proc.summary = () => {
		const lines = fs.readFileSync(json, 'utf8').split('\n').filter((l) => l.trim());
		return JSON.parse(lines[lines.length - 1]);
	};
	return proc;
}

/* Whether a socket listens on port, from /proc/net/tcp{,6}: no probe connection (fc.py's way). */
function listening(port) {
	for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let text = '';
		try {
			text = fs.readFileSync(f, 'utf8');
		} catch (e) {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length > 3 && cols[3] === '0A' && parseInt(cols[1].split(':').pop(), 16) === port) return true;
		}
	}
	return false;
}

export async function waitListening(port, ms = 5000) {
	const end = Date.now() + ms;
	while (!listening(port)) {
		if (Date.now() > end) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
		await sleep(50);
	}
}

/* A TCP connection to 127.0.0.1:port, retried for up to `ms` while nothing listens yet. */
export async function connect(port, ms = 5000) {
	const end = Date.now() + ms;
	for (;;) {
		try {
			return await new Promise((resolve, reject) => {
				const s = net.connect(port, '127.0.0.1', () => resolve(s));
				s.once('error', reject);
			});
		} catch (e) {
			if (Date.now() > end) throw e;
			await sleep(50);
		}
	}
}

export function check(cond, what, ...ps) {
	if (cond) {
		console.log(`ok: ${what}`);
		return true;
	}
	const detail = ps.map((p) => `\n--- ${p.name} (${p.args.join(' ')}):\n${p.output()}`).join('');
	failures.push(what);
	console.log(`FAIL: ${what}${detail}`);
	return false;
}

/* A rate or a delay (fc.check_speed): in a sanitizer build shown but not counted ("unchecked"). */
export function checkSpeed(cond, what, ...ps) {
	if (SANITIZE && !cond) {
		console.log(`unchecked (speed, ${SANITIZE} sanitizer build): ${what}`);
		return true;
	}
	return check(cond, what, ...ps);
}

export function percentile(xs, p) {
	if (!xs.length) return NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/* Runs the tests in order; exits 1 on any failure, 77 when every one skipped. */
export async function main(...tests) {
	let skipped = 0;
	for (const t of tests) {
		console.log(`== ${t.name}`);
		const t0 = Date.now();
		try {
			await t();
		} catch (e) {
			if (e instanceof Skip) {
				console.log(`skipped: ${e.message}`);
				skipped++;
			} else {
				failures.push(`${t.name}: ${e.stack || e}`);
				console.log(`FAIL: ${t.name}: ${e.stack || e}`);
			}
		}
		for (const p of procs.filter((q) => !q.keep)) await p.stop(3000);
		procs.splice(0, procs.length, ...procs.filter((q) => q.keep));
		console.log(`-- ${t.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	}
	for (const p of procs.splice(0)) await p.stop(3000);
	if (failures.length) {
		console.log(`${failures.length} failure(s):\n  ${failures.join('\n  ')}`);
		process.exit(1);
	}
	fs.rmSync(TMP, { recursive: true, force: true });
	process.exit(skipped === tests.length ? 77 : 0);
}
