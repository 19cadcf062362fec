/*
 * page.js: the live page. It connects a WebSocket to the sender's bridge (sender/serve/ws.h),
 * runs freshcam.js's Session over it with performance.now() as the viewer clock, and shows only
 * frames whose age bound is within the budget, decoded off the main thread (createImageBitmap)
 * and checked again against the budget just before they are drawn, as freshcam-view does. When
 * nothing has been shown for a few frame periods it dims the last picture under the window's
 * banner (viewer/show/stall.c's rule and words), and reconnects with backoff when the sender goes.
 *
 * The figures, once a second, are freshcam-view's console line, and window.freshcam.figures
 * holds them for programs and tests (tests/web/test_page.mjs). figures.trueAge is a measurement
 * that holds only with the sender on this host (see "the true age" below): never shown, never a
 * judge of any frame.
 *
 * With a passphrase on the sender, the page asks for it in a form and proves it (auth.js) before
 * it connects; the banner says why nothing shows meanwhile (window.freshcam.figures.auth too).
 *
 * The page's address says what to ask: ?max-age=MS (the budget, 80 by default) and ?window=N
 * (requests in flight at most, 4 by default), as freshcam-view's options.
 */
import { login, passphraseNeeded, reprove } from './auth.js';
import { MAX_WINDOW, Session } from './freshcam.js';

const params = new URLSearchParams(location.search);
const BUDGET_MS = Math.min(60000, Math.max(0.001, Number(params.get('max-age')) || 80));
const WINDOW = Math.min(MAX_WINDOW, Math.max(1, Number(params.get('window')) || 4));
const BUDGET_NS = BigInt(Math.round(BUDGET_MS * 1e6));
/* performance.now() is coarsened to 100 us (Chromium) or 1 ms (Firefox) unless the page is
 * cross-origin isolated (then 5 to 20 us): the larger of each is the grain (freshcam.js). */
const GRAIN_NS = self.crossOriginIsolated ? 100000n : 1000000n;
/* viewer/show/stall.h */
const STALL_PERIODS = 3;
const STALL_MIN_BUDGETS = 3;
const STALL_MIN_MS = 100;
const STALL_MAX_MS = 1000;
/* viewer/main.c: redialling, 0.25 s doubling to 2 s. */
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 2000;

const nowNs = () => BigInt(Math.round(performance.now() * 1e6));
const $ = (id) => document.getElementById(id);

/* ---- the true age, with the sender on this host only ------------------------------------ */

/*
 * The bound is the page's promise and holds on any host. Beside it, for bench/browser.py, the page
 * measures the true age of each frame it draws, as freshcam-view's --check-stamps does, which is
 * right only when the sender runs on this host: the capture on the sender's CLOCK_REALTIME is the
 * FRAME's send_real_ns less its age_at_send, and this browser's performance.timeOrigin +
 * performance.now() is read on the same wall clock (across hosts it would be off by the clocks'
 * offset: meaningless, hence not on screen). Taken from the capture at: the FRAME's first and
 * last chunk handed to the page (its WebSocket messages), decoded (createImageBitmap done) and
 * drawn (drawImage returned; on screen at the next paint, which is in neither freshcam-view's
 * headless figure nor this one). Each moment is a performance.now() reading, coarsened by the
 * browser (grainUs, measured at load: 100 us in Chromium unless cross-origin isolated, then 5);
 * clockMinMs/clockMaxMs are the least and most of (timeOrigin + now) - Date.now() seen: within
 * [0, 1) ms, and a grain, when the page's wall clock is the host's (Date.now() is whole ms).
 */
const trueAge = { first: [], arrived: [], decoded: [], drawn: [], transit: [], atSend: [] };
const clockSeen = { min: Infinity, max: -Infinity };
const grainUs = (() => {
	let step = Infinity;
	const end = performance.now() + 2;
	for (let t = performance.now(), i = 0; t < end && i < 1e6; i++) {
		const u = performance.now();
		if (u > t && u - t < step) step = u - t;
		t = u;
	}
	return step * 1000;
})();
let chunkAt = 0; /* performance.now() when the latest WebSocket message came */

/* A reading between two equal Date.now()s: a thread preempted between the reads (ms on a busy
 * machine) would change the second one, and the sample is dropped rather than taken for skew. */
function checkClock() {
	const before = Date.now();
	const real = performance.timeOrigin + performance.now();
	if (Date.now() !== before) return;
	clockSeen.min = Math.min(clockSeen.min, real - before);
	clockSeen.max = Math.max(clockSeen.max, real - before);
}

/* Notes a drawn frame's moments (performance.now() readings) from its capture. */
function noteTrueAge(f, decodedAt, drawnAt) {
	if (!f.sendRealNs) return; /* the sender does not know its wall clock */
	const sendMs = Number(f.sendRealNs) / 1e6;
	const capture = Number(f.sendRealNs - f.ageAtSendNs) / 1e6 - performance.timeOrigin;
	trueAge.atSend.push(Number(f.ageAtSendNs) / 1e6);
	trueAge.first.push(f.firstAt - capture);
	trueAge.arrived.push(f.arrivedAt - capture);
	trueAge.decoded.push(decodedAt - capture);
	trueAge.drawn.push(drawnAt - capture);
	trueAge.transit.push(performance.timeOrigin + f.arrivedAt - sendMs);
}

/* Everything the page counts; `interval` is reset each second for the rates. */
const counts = {
	received: 0,
	shown: 0,
	rejected: 0,
	stale: 0,
	lateAtDisplay: 0,
	corrupt: 0,
	shownOverBudget: 0, /* past the budget by the end of drawImage (checked before it): a busy machine */
	bytes: 0,
};
const interval = { shown: 0, rejected: 0, bounds: [], bytes: 0, frames: 0, t0: performance.now() };
let maxShownBoundMs = 0;
let lastFrame = null; /* the latest frame received, for its rendition */
let senderHello = null;
let sourceLost = false;
let lastReason = 'connecting';
let everConnected = false;
let guarded = false; /* the sender has a passphrase */
let authWhy = null; /* why the page waits for a passphrase, or null */

const figures = { budgetMs: BUDGET_MS, connected: false, state: 'stalled' };
window.freshcam = { figures };

/* ---- showing frames --------------------------------------------------------------------- */

const canvas = $('canvas');
const ctx2d = canvas.getContext('2d');
let decoding = false;
let pending = null; /* the newest accepted frame waiting for the decoder: latest only */
let shownAt = performance.now();

/* freshcam-view's fc_age_within: still within the budget at now? */
function within(f) {
	const since = nowNs() - f.v3;
	return f.boundNs <= BUDGET_NS && (since < 0n ? 0n : since) <= BUDGET_NS - f.boundNs;
}

async function decodeAndDraw(f) {
	decoding = true;
	try {
		if (!within(f)) {
			counts.lateAtDisplay++;
			return;
		}
		let bmp;
		try {
			bmp = await createImageBitmap(new Blob([f.jpeg], { type: 'image/jpeg' }));
		} catch (e) {
			counts.corrupt++;
			return;
		}
		const decodedAt = performance.now();
		if (bmp.width !== f.width || bmp.height !== f.height) {
			counts.corrupt++;
			bmp.close();
			return;
		}
		if (!within(f)) {
			counts.lateAtDisplay++;
			bmp.close();
			return;
		}
		if (canvas.width !== f.srcWidth || canvas.height !== f.srcHeight) {
			canvas.width = f.srcWidth;
			canvas.height = f.srcHeight;
		}
		ctx2d.drawImage(bmp, 0, 0, f.srcWidth, f.srcHeight);
		noteTrueAge(f, decodedAt, performance.now());
		bmp.close();
		if (!within(f)) counts.shownOverBudget++;
		counts.shown++;
		interval.shown++;
		const ms = Number(f.boundNs) / 1e6;
		interval.bounds.push(ms);
		if (ms > maxShownBoundMs) maxShownBoundMs = ms;
		shownAt = performance.now();
		if (f.data !== undefined) showData(f);
	} finally {
		decoding = false;
		if (pending) {
			const next = pending;
			pending = null;
			decodeAndDraw(next);
		}
	}
}

/* The document that came with the frame just drawn (docs/PROTOCOL.md, section 10): shown under
 * the picture with its frame's number, as sent (at most a few lines of it). */
const dataLine = document.getElementById('data');
function showData(f) {
	const text = JSON.stringify(f.data);
	figures.data = { seq: Number(f.seq), doc: f.data };
	dataLine.textContent = `frame ${f.seq}: ${text.length > 400 ? text.slice(0, 400) + '…' : text}`;
	dataLine.hidden = false;
}

function onFrame(f) {
	counts.received++;
	counts.bytes += f.bytes;
	interval.bytes += f.bytes;
	interval.frames++;
	lastFrame = f;
	if (f.stale) counts.stale++;
	if (!f.accepted) {
		counts.rejected++;
		interval.rejected++;
		return;
	}
	f.arrivedAt = chunkAt;
	f.firstAt = f.firstNs ? Number(f.firstNs - GRAIN_NS) / 1e6 : chunkAt; /* the raw reading */
	if (decoding) {
		if (pending) counts.lateAtDisplay++; /* replaced by a newer one before its turn */
		pending = f;
	} else {
		decodeAndDraw(f);
	}
}

/* ---- the connection ------------------------------------------------------------------- */

let session = null;
let socket = null;
let backoff = BACKOFF_FIRST_MS;

function connect() {
	const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws', 'freshcam');
	ws.binaryType = 'arraybuffer';
	socket = ws;
	const s = new Session({
		send: (b) => ws.readyState === WebSocket.OPEN && ws.send(b),
		now: nowNs,
		grainNs: GRAIN_NS,
		budgetMs: BUDGET_MS,
		window: WINDOW,
		on: {
			hello: (h) => {
				senderHello = h;
				/* Which camera this is (its --name): several tabs of a fleet tell apart. */
				if (h.station) document.title = `freshcam: ${h.station}`;
				everConnected = true;
				sourceLost = false;
				backoff = BACKOFF_FIRST_MS;
			},
			frame: onFrame,
			status: (st) => (sourceLost = st.lost),
			/* A BYE read or the transport gone: close our end, then dial again. */
			end: (e) => {
				/* Why the stream ended, not why each redial fails after. */
				if (s.sender || !everConnected) lastReason = e.reason;
				senderHello = null;
				if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
			},
		},
	});
	session = s;
	let opened = false;
	ws.onopen = () => {
		opened = true;
		s.start();
	};
	ws.onmessage = (e) => {
		chunkAt = performance.now();
		s.receive(new Uint8Array(e.data));
	};
	ws.onclose = (e) => {
		s.lost(`WebSocket closed (${e.code}${e.reason ? ': ' + e.reason : ''})`);
		if (socket !== ws) return;
		socket = null;
		/* Refused before it opened, with a passphrase: the session may have ended. */
		setTimeout(guarded && !opened ? redial : connect, backoff);
		backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
	};
}

/* ---- the passphrase (auth.js) ----------------------------------------------------------- */

function askPassphrase(why) {
	authWhy = figures.auth = why;
	$('login').hidden = false;
	$('passphrase').focus();
}

/* Proves again with the key this page derived, then connects; asks when that is not enough. */
async function redial() {
	let res;
	try {
		res = await reprove();
	} catch (e) {
		lastReason = `the sender does not answer (${e.message})`;
		setTimeout(redial, backoff);
		backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
		return;
	}
	if (res.ok) connect();
	else askPassphrase(res.why);
}

$('login').addEventListener('submit', async (e) => {
	e.preventDefault();
	authWhy = figures.auth = 'checking the passphrase';
	let res;
	try {
		res = await login($('passphrase').value);
	} catch (err) {
		res = { ok: false, why: `the sender does not answer (${err.message})` };
	}
	$('passphrase').value = '';
	if (!res.ok) return askPassphrase(res.why);
	authWhy = figures.auth = null;
	$('login').hidden = true;
	connect();
});

async function begin() {
	try {
		const st = await passphraseNeeded();
		guarded = st.guarded;
		if (st.needed) return askPassphrase('this sender has a passphrase: give it below');
	} catch (e) {
		lastReason = e.message;
	}
	connect();
}

/* ---- NO SIGNAL (viewer/show/stall.c) -------------------------------------------------- */

function stallAfterMs() {
	const fps = senderHello ? senderHello.fpsMilli : 0;
	const periods = fps ? (STALL_PERIODS * 1e6) / fps : STALL_MAX_MS;
	const budgets = Math.min(STALL_MIN_BUDGETS * BUDGET_MS, STALL_MAX_MS);
	return Math.min(STALL_MAX_MS, Math.max(STALL_MIN_MS, periods, budgets));
}

/* What went wrong lately: counts at the last frame shown, and when a frame last came. */
let atShown = { ...counts };
let receivedSeen = 0;
let receivedAt = performance.now();

function stallState(now) {
	const after = stallAfterMs();
	if (counts.received !== receivedSeen) {
		receivedSeen = counts.received;
		receivedAt = now;
	}
	if (now - shownAt <= after) {
		atShown = { ...counts };
		return null;
	}
	if (authWhy) return ['PASSPHRASE NEEDED', authWhy];
	if (!senderHello) return ['NO SIGNAL', `sender lost, reconnecting (${lastReason})`];
	if (sourceLost) return ['CAMERA LOST', "the sender's camera is gone; it retries every second"];
	if (now - receivedAt > after) return ['NO SIGNAL', 'no frames from the sender'];
	const rejected = counts.rejected - atShown.rejected;
	const lateDisplay = counts.lateAtDisplay - atShown.lateAtDisplay;
	const corrupt = counts.corrupt - atShown.corrupt;
	if (rejected >= lateDisplay && rejected >= corrupt) {
		const b = lastFrame && lastFrame.age ? `${(Number(lastFrame.boundNs) / 1e6).toFixed(1)} ms` : 'unknown';
		return ['ALL FRAMES LATE', `age bound ${b} > budget ${BUDGET_MS.toFixed(1)} ms`];
	}
	if (lateDisplay >= corrupt)
		return ['FRAMES LATE AT THE DISPLAY', `decoding and drawing age them past the ${BUDGET_MS.toFixed(1)} ms budget`];
	return ['FRAMES DO NOT DECODE', "the sender's JPEGs are broken"];
}

function showStall(now) {
	const st = stallState(now);
	$('picture').classList.toggle('stalled', !!st);
	$('banner').hidden = !st;
	figures.state = st ? 'stalled' : 'live';
	figures.stall = st ? { headline: st[0], detail: st[1], seconds: (now - shownAt) / 1000 } : null;
	if (!st) return;
	$('headline').textContent = st[0];
	$('detail').textContent = st[1];
	$('since').textContent = `${((now - shownAt) / 1000).toFixed(1)} s`;
}

/* ---- the figures, once a second ------------------------------------------------------- */

function percentile(xs, p) {
	if (!xs.length) return 0;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/* The last second's true-age figures (see the top), or null when no drawn frame had them. */
function trueAgeFigures() {
	const t = trueAge;
	if (!t.drawn.length) return null;
	const out = {
		frames: t.drawn.length,
		atSendP50Ms: percentile(t.atSend, 50),
		firstP50Ms: percentile(t.first, 50),
		arrivedP50Ms: percentile(t.arrived, 50),
		arrivedP95Ms: percentile(t.arrived, 95),
		decodedP50Ms: percentile(t.decoded, 50),
		decodedP95Ms: percentile(t.decoded, 95),
		drawnP50Ms: percentile(t.drawn, 50),
		drawnP95Ms: percentile(t.drawn, 95),
		drawnMaxMs: Math.max(...t.drawn),
		transitP50Ms: percentile(t.transit, 50),
		transitMinMs: Math.min(...t.transit),
		clockMinMs: clockSeen.min,
		clockMaxMs: clockSeen.max,
		grainUs,
	};
	for (const k of Object.keys(t)) t[k] = [];
	return out;
}

function updateFigures(now) {
	const secs = (now - interval.t0) / 1000;
	const f = lastFrame;
	Object.assign(figures, {
		connected: !!senderHello,
		sender: senderHello ? senderHello.name : null,
		shownFps: interval.shown / secs,
		rejectedFps: interval.rejected / secs,
		boundP50Ms: percentile(interval.bounds, 50),
		boundP95Ms: percentile(interval.bounds, 95),
		maxShownBoundMs,
		width: f ? f.width : 0,
		height: f ? f.height : 0,
		srcWidth: f ? f.srcWidth : 0,
		srcHeight: f ? f.srcHeight : 0,
		quality: f ? f.quality : 0,
		kbPerFrame: interval.frames ? interval.bytes / interval.frames / 1000 : 0,
		trueAge: trueAgeFigures(),
		...counts,
	});
	const q = f && f.quality ? ` q${f.quality}` : '';
	const size = f ? `${f.width}x${f.height}${f.width !== f.srcWidth ? ` of ${f.srcWidth}x${f.srcHeight}` : ''}${q}` : '-';
	$('figures').textContent =
		`shown ${figures.shownFps.toFixed(1)} fps, rejected ${figures.rejectedFps.toFixed(1)} fps | ` +
		`age bound p50 ${figures.boundP50Ms.toFixed(1)} p95 ${figures.boundP95Ms.toFixed(1)} ms ` +
		`(budget ${BUDGET_MS} ms) | ${size} ${figures.kbPerFrame.toFixed(1)} KB/frame | ` +
		`${counts.shown} shown, ${counts.rejected} rejected` +
		(counts.corrupt ? `, ${counts.corrupt} undecodable` : '');
	Object.assign(interval, { shown: 0, rejected: 0, bounds: [], bytes: 0, frames: 0, t0: now });
}

/* ---- wiring --------------------------------------------------------------------------- */

begin();
setInterval(() => {
	const now = performance.now();
	if (session) session.tick();
	checkClock();
	showStall(now);
	if (now - interval.t0 >= 1000) updateFigures(now);
}, 50);
