/*
 * freshcam.js: the viewer's side of the freshcam protocol (docs/PROTOCOL.md, version 6) for the
 * live page, as an ES module with no I/O of its own.
 *
 * The page (page.js) carries the bytes over a WebSocket, the test (tests/web/test_freshcam.mjs)
 * over a plain TCP socket: the bytes are the same, so a Session is handed a send function and a
 * clock, and fed whatever chunks arrive, cut anywhere. It runs the timestamp-echo exchange as
 * freshcam-view does (viewer/net/client.c) and judges every frame by an age bound that is a
 * guarantee, with the rules and constants of common/age.c, common/offset.c and
 * viewer/net/bound.c, in BigInt nanoseconds (a sender's clock since boot passes 2^53 ns after
 * about 104 days). The request window is viewer/net/pace.c's, without the probing downwards
 * after a downward probe lost (a page has no link emulator to need it).
 *
 * The viewer clock is the caller's now() in integer ns (the page: performance.now()). A browser
 * coarsens that clock (100 us in Chromium, 1 ms in Firefox unless the page is cross-origin
 * isolated), so every reading is widened by the clock's grain in the direction that can only make
 * a bound larger: a send time is taken grain earlier, an arrival grain later.
 */

export const PROTO_VERSION = 6;
export const HEADER = 8;
export const MSG = {
	HELLO: 1,
	REQUEST: 2,
	FRAME: 3,
	VERDICT: 4,
	PING: 5,
	PONG: 6,
	BYE: 7,
	STATUS: 8,
	AUTH: 9,
	SEALED: 10,
	DATA: 11, /* version 5: a JSON document with a frame (docs/PROTOCOL.md, section 10) */
};
export const ROLE_SENDER = 1;
export const ROLE_VIEWER = 2;
export const VERDICT_ACCEPTED = 1;
export const VERDICT_LATE = 2;
export const BYE = { NORMAL: 0, PROTOCOL: 3, TIMEOUT: 5 };
export const SOURCE_LIVE = 1;
export const SOURCE_LOST = 2;
export const FRAME_FIXED = 61;
export const HELLO_FIXED = 62; /* the station's length at 55; version 6: udp_port 56, conn 58 */
export const MAX_NAME = 64;
export const MAX_STATION = 64;
export const MAX_TEXT = 200;
export const MAX_JPEG = 16 * 1024 * 1024;
export const MAX_DIM = 16384;
export const MAX_WINDOW = 16;
export const MAX_DATA = 4096; /* a DATA's document, bytes */
const DATA_DEPTH = 32;
export const HELLO_FULL_ONLY = 0x02;
export const HELLO_UDP = 0x04; /* version 6: a page never asks for it (no UDP in a browser) */

/* common/age.c */
const RATE_SLACK_PPM = 500n;
const SLACK_FLOOR_NS = 50000n;
/* common/offset.h */
export const DRIFT_PPM = 500n;
const PPM_DIV = 1000000n;
const SPAN_MAX = 10000000000000000n;
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffffn;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

export const PACE_START = 2; /* viewer/net/pace.h */
const PACE_EPOCH_NS = 1000000000n;
const PACE_WAIT_MAX = 32;
const PACE_WIN_RATIO = 1.1;
const PACE_WIN_FPS = 0.5;
const PACE_WAIT_AFTER_WIN = 4;

const PING_EVERY_NS = 1000000000n; /* viewer/net/client.c */
export const DEAD_AFTER_NS = 5000000000n; /* viewer/main.c: dead_after_ms */

const PAYLOAD_BOUNDS = {
	[MSG.HELLO]: [HELLO_FIXED, HELLO_FIXED + MAX_STATION + MAX_NAME],
	[MSG.REQUEST]: [12, 12],
	[MSG.FRAME]: [FRAME_FIXED, FRAME_FIXED + MAX_JPEG],
	[MSG.VERDICT]: [25, 25],
	[MSG.PING]: [8, 8],
	[MSG.PONG]: [16, 16],
	[MSG.BYE]: [4, 4 + MAX_TEXT],
	[MSG.STATUS]: [4, 4 + MAX_TEXT],
	[MSG.AUTH]: [32, 32],
	[MSG.SEALED]: [28, 16777301],
	[MSG.DATA]: [9, 8 + MAX_DATA],
};

export class ProtoError extends Error {}

function textOk(bytes) {
	for (const b of bytes) if (b < 0x20 || b > 0x7e) return false;
	return true;
}

function asciiBytes(s, max) {
	const out = new Uint8Array(Math.min(s.length, max));
	for (let i = 0; i < out.length; i++) {
		const c = s.charCodeAt(i);
		out[i] = c >= 0x20 && c <= 0x7e ? c : 0x3f;
	}
	return out;
}

function message(type, plen, fill) {
	const buf = new Uint8Array(HEADER + plen);
	const dv = new DataView(buf.buffer);
	buf[0] = 0x46;
	buf[1] = 0x43;
	buf[2] = PROTO_VERSION;
	buf[3] = type;
	dv.setUint32(4, plen);
	fill(dv, buf);
	return buf;
}

const sat32 = (x) => Number(x > U32_MAX ? U32_MAX : x < 0n ? 0n : x);

/* A viewer's HELLO: window 1..16, budget in us (at least 1), no floor, no passphrase. */
export function encodeHello({ window, budgetUs, name = 'freshcam-page', flags = 0, station = '' }) {
	const nm = asciiBytes(name, MAX_NAME);
	const st = asciiBytes(station, MAX_STATION);
	return message(MSG.HELLO, HELLO_FIXED + st.length + nm.length, (dv, b) => {
		dv.setUint8(8, ROLE_VIEWER);
		dv.setUint16(10, window);
		dv.setUint32(12, Math.max(1, Math.min(budgetUs, 0xffffffff)));
		dv.setUint8(24, flags);
		dv.setUint8(25, nm.length);
		dv.setUint8(8 + 55, st.length);
		b.set(st, 8 + HELLO_FIXED);
		b.set(nm, 8 + HELLO_FIXED + st.length);
	});
}

export function encodeRequest(id, t0) {
	return message(MSG.REQUEST, 12, (dv) => {
		dv.setUint32(8, id >>> 0);
		dv.setBigUint64(12, BigInt.asUintN(64, t0));
	});
}

export function encodeVerdict({ id, seq, boundNs, kind, recvNs, gapNs }) {
	return message(MSG.VERDICT, 25, (dv) => {
		dv.setUint32(8, id >>> 0);
		dv.setBigUint64(12, seq);
		dv.setUint32(20, sat32(boundNs / 1000n));
		dv.setUint8(24, kind);
		dv.setUint32(25, sat32(recvNs / 1000n));
		dv.setUint32(29, sat32(gapNs / 1000n));
	});
}

export function encodePing(token) {
	return message(MSG.PING, 8, (dv) => dv.setBigUint64(8, BigInt.asUintN(64, token)));
}

export function encodePong(token, clock) {
	return message(MSG.PONG, 16, (dv) => {
		dv.setBigUint64(8, token);
		dv.setBigUint64(16, BigInt.asUintN(64, clock));
	});
}

export function encodeBye(reason, text) {
	const t = asciiBytes(text, MAX_TEXT);
	return message(MSG.BYE, 4 + t.length, (dv, b) => {
		dv.setUint16(8, reason);
		dv.setUint16(10, t.length);
		b.set(t, 12);
	});
}

const latin1 = (bytes) => String.fromCharCode(...bytes);

function decodeText(p, off, n) {
	const len = (p[off] << 8) | p[off + 1];
	const t = p.subarray(off + 2, off + 2 + len);
	if (len !== n - 2 || !textOk(t)) throw new ProtoError('a text out of range');
	return latin1(t);
}

function decodeHello(p, dv, n) {
	const h = {
		role: p[0],
		codec: p[1],
		window: dv.getUint16(2),
		budgetUs: dv.getUint32(4),
		width: dv.getUint16(8),
		height: dv.getUint16(10),
		fpsMilli: dv.getUint32(12),
		flags: p[16],
		udpPort: dv.getUint16(56),
		conn: dv.getUint32(58),
	};
	const nameLen = p[17];
	const stationLen = p[55];
	const station = p.subarray(HELLO_FIXED, HELLO_FIXED + stationLen);
	const name = p.subarray(HELLO_FIXED + stationLen, n);
	const udpOk = h.flags & HELLO_UDP
	    ? h.udpPort !== 0 && (h.conn !== 0) === (h.role === ROLE_SENDER)
	    : h.udpPort === 0 && h.conn === 0;
	if (h.flags & ~0x07 || !udpOk || stationLen > MAX_STATION || nameLen > MAX_NAME ||
	    stationLen + nameLen !== n - HELLO_FIXED || !textOk(station) || !textOk(name))
		throw new ProtoError('a HELLO field out of range');
	h.station = latin1(station);
	h.name = latin1(name);
	if (h.role === ROLE_SENDER) {
		if (h.codec !== 1 || h.width > MAX_DIM || h.height > MAX_DIM)
			throw new ProtoError('a HELLO field out of range');
	} else if (h.role !== ROLE_VIEWER) {
		throw new ProtoError('a HELLO field out of range');
	}
	return h;
}

function decodeFrame(p, dv, n) {
	const f = {
		id: dv.getUint32(0),
		t0: dv.getBigUint64(4),
		held: dv.getBigUint64(12),
		age: dv.getBigUint64(20),
		seq: dv.getBigUint64(28),
		width: dv.getUint16(36),
		height: dv.getUint16(38),
		srcWidth: dv.getUint16(40),
		srcHeight: dv.getUint16(42),
		quality: p[44],
		sendNs: dv.getBigUint64(45),
		sendRealNs: dv.getBigUint64(53),
		jpeg: p.subarray(FRAME_FIXED, n),
	};
	if (!(f.width > 0 && f.height > 0 && f.srcWidth <= MAX_DIM && f.srcHeight <= MAX_DIM &&
	      f.width <= f.srcWidth && f.height <= f.srcHeight && f.quality <= 100))
		throw new ProtoError('a FRAME field out of range');
	return f;
}

/* A DATA: its seq and its document, parsed. The checks are common/jdoc.c's: one JSON value in
 * UTF-8, no byte below 0x20, nested at most DATA_DEPTH deep. */
function decodeData(p, dv) {
	const bytes = p.subarray(8);
	let depth = 0;
	let quoted = false;
	let escaped = false;
	for (const b of bytes) {
		if (b < 0x20) throw new ProtoError('a DATA field out of range');
		if (escaped) escaped = false;
		else if (quoted && b === 0x5c) escaped = true;
		else if (b === 0x22) quoted = !quoted;
		else if (!quoted && (b === 0x5b || b === 0x7b) && ++depth > DATA_DEPTH)
			throw new ProtoError('a DATA field out of range');
		else if (!quoted && (b === 0x5d || b === 0x7d)) depth--;
	}
	try {
		const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
		return { seq: dv.getBigUint64(0), text, doc: JSON.parse(text) };
	} catch {
		throw new ProtoError('a DATA field out of range');
	}
}

/* The fields of one whole payload p (a view of exactly its n bytes). */
function decodePayload(type, p) {
	const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
	const n = p.byteLength;
	switch (type) {
	case MSG.HELLO:
		return decodeHello(p, dv, n);
	case MSG.FRAME:
		return decodeFrame(p, dv, n);
	case MSG.PING:
		return { token: dv.getBigUint64(0) };
	case MSG.PONG:
		return { token: dv.getBigUint64(0), clock: dv.getBigUint64(8) };
	case MSG.BYE:
		return { reason: dv.getUint16(0), text: decodeText(p, 2, n - 2) };
	case MSG.STATUS:
		if (p[0] !== SOURCE_LIVE && p[0] !== SOURCE_LOST)
			throw new ProtoError('a STATUS field out of range');
		return { source: p[0], text: decodeText(p, 2, n - 2) };
	case MSG.DATA:
		return decodeData(p, dv);
	default:
		return {}; /* the Session refuses these from a sender */
	}
}

/*
 * Decodes the message at the start of buf: { size, type, msg } when it is whole, { need } when
 * only a valid prefix is in (need: the whole message's size once the header is in); throws
 * ProtoError as soon as the bytes prove it bad, in fc_proto_decode's order (magic, version, type,
 * length, fields).
 */
export function decode(buf) {
	const len = buf.length;
	if ((len >= 1 && buf[0] !== 0x46) || (len >= 2 && buf[1] !== 0x43))
		throw new ProtoError('not a freshcam stream (bad magic)');
	if (len >= 3 && buf[2] !== PROTO_VERSION)
		throw new ProtoError(`the sender speaks protocol version ${buf[2]}, this page ${PROTO_VERSION}`);
	if (len >= 4 && !PAYLOAD_BOUNDS[buf[3]]) throw new ProtoError(`unknown message type ${buf[3]}`);
	if (len < HEADER) return { need: HEADER };
	const plen = new DataView(buf.buffer, buf.byteOffset, 8).getUint32(4);
	const [min, max] = PAYLOAD_BOUNDS[buf[3]];
	if (plen < min || plen > max) throw new ProtoError(`message length ${plen} out of bounds`);
	if (len < HEADER + plen) return { need: HEADER + plen };
	return {
		size: HEADER + plen,
		type: buf[3],
		msg: decodePayload(buf[3], buf.subarray(HEADER, HEADER + plen)),
	};
}

/*
 * Reassembles a byte stream cut anywhere (WebSocket messages, TCP reads) into messages, keeping
 * for each the times common/conn.c keeps: when its first byte came and the longest wait between
 * two chunks that brought its bytes (the VERDICT's recv_us and gap_us).
 */
export class Reader {
	constructor() {
		this.buf = new Uint8Array(64 * 1024);
		this.start = 0;
		this.len = 0;
		this.headNs = 0n; /* when the first byte of the message at start came */
		this.headGap = 0n;
		this.readNs = 0n;
	}

	push(chunk, now) {
		if (this.len + chunk.length > this.buf.length) {
			const keep = this.len - this.start;
			if (keep + chunk.length <= this.buf.length) {
				this.buf.copyWithin(0, this.start, this.len);
			} else {
				let cap = this.buf.length;
				while (cap < keep + chunk.length) cap *= 2;
				const nb = new Uint8Array(cap);
				nb.set(this.buf.subarray(this.start, this.len));
				this.buf = nb;
			}
			this.start = 0;
			this.len = keep;
		}
		this.buf.set(chunk, this.len);
		this.len += chunk.length;
		if (chunk.length === 0) return;
		if (!this.headNs) this.headNs = now;
		else if (now - this.readNs > this.headGap) this.headGap = now - this.readNs;
		this.readNs = now;
	}

	/* The next whole message ({ type, msg, firstNs, gapNs }, msg's bytes valid until the next
	 * push), or null. Throws ProtoError. */
	next() {
		if (this.len === this.start) return null;
		const d = decode(this.buf.subarray(this.start, this.len));
		if (!d.size) return null;
		const out = { type: d.type, msg: d.msg, firstNs: this.headNs, gapNs: this.headGap };
		this.start += d.size;
		/* What follows came in the chunk that completed this message, the latest. */
		this.headNs = this.start < this.len ? this.readNs : 0n;
		this.headGap = 0n;
		if (this.start === this.len) this.start = this.len = 0;
		return out;
	}
}

/* common/age.c, fc_age_compute: the request's bound, or null when held exceeds the round trip
 * beyond the clock-rate slack (impossible timestamps). */
export function ageCompute(v0, v3, held, age) {
	if (v3 < v0) return null;
	const span = v3 - v0;
	if (held > span) {
		if (held - span > (span / 1000000n) * RATE_SLACK_PPM + SLACK_FLOOR_NS) return null;
		held = span;
	}
	const rtt = span - held;
	let bound = rtt + age;
	const x = held + age;
	bound += (x / 1000000n) * RATE_SLACK_PPM + ((x % 1000000n) * RATE_SLACK_PPM + 999999n) / 1000000n;
	if (bound > U64_MAX) bound = U64_MAX;
	return { rttNs: rtt, boundNs: bound, requestNs: bound, estNs: rtt / 2n + age, clockNs: null };
}

/* common/offset.c: drift_floor and drift_ceil. BigInt division truncates towards zero like C. */
function driftFloor(x) {
	const p = x * DRIFT_PPM;
	return p >= 0n ? p / PPM_DIV : -((-p + PPM_DIV - 1n) / PPM_DIV);
}
const driftCeil = (x) => -driftFloor(-x);
const fitsI64 = (x) => x >= I64_MIN && x <= I64_MAX;

/* common/offset.c: what the exchanges of one connection prove about theta = S - V. */
export class Offset {
	constructor() {
		this.have = false;
		this.epoch = 0n;
		this.latest = 0n;
		this.hiC = 0n;
		this.loC = 0n;
		this.exchanges = 0;
		this.resets = 0;
	}

	sinceEpoch(v) {
		const d = v - this.epoch;
		return d > SPAN_MAX || d < -SPAN_MAX ? null : d;
	}

	limits(v0, s1, s2, v3) {
		const hi = s1 - v0;
		const lo = s2 - v3;
		const at = this.sinceEpoch(v0);
		if (at === null || !fitsI64(hi) || !fitsI64(lo)) return null;
		if (hi < I64_MIN / 2n || hi > I64_MAX / 2n || lo < I64_MIN / 2n || lo > I64_MAX / 2n)
			return null;
		return { hiC: hi + 1n - driftFloor(at), loC: lo - 1n + driftFloor(at) };
	}

	at(v) {
		if (!this.have || v < this.latest) return null;
		const at = this.sinceEpoch(v);
		if (at === null) return null;
		return { hi: this.hiC + driftCeil(at), lo: this.loC - driftCeil(at) };
	}

	consistent(v) {
		const r = this.at(v);
		return r !== null && r.lo <= r.hi;
	}

	/* 'added', 'restarted' or 'impossible', as fc_offset_add. */
	add(v0, s1, s2, v3) {
		if (v3 < v0 || s2 < s1) return 'impossible';
		const alone = Object.assign(new Offset(), { have: true, epoch: v0, latest: v0 });
		const own = alone.limits(v0, s1, s2, v3);
		if (!own) return 'impossible';
		Object.assign(alone, own);
		if (!alone.consistent(v3)) return 'impossible';
		alone.exchanges = this.exchanges + 1;
		alone.resets = this.resets;
		if (!this.have) {
			Object.assign(this, alone);
			return 'added';
		}
		const l = this.limits(v0, s1, s2, v3);
		if (l) {
			const merged = Object.assign(new Offset(), this);
			merged.hiC = l.hiC < this.hiC ? l.hiC : this.hiC;
			merged.loC = l.loC > this.loC ? l.loC : this.loC;
			merged.latest = v0 > this.latest ? v0 : this.latest;
			merged.exchanges++;
			if (merged.consistent(v3 > merged.latest ? v3 : merged.latest)) {
				Object.assign(this, merged);
				return 'added';
			}
		}
		alone.resets++;
		Object.assign(this, alone);
		return 'restarted';
	}
}

/* fc_offset_age_from: the frame's age at v3 from lo <= theta <= hi, or null. */
export function offsetAge(lo, hi, v3, sc) {
	const span = v3 - sc;
	if (lo > hi || !fitsI64(span)) return null;
	const aHi = span + hi;
	const aLo = span + lo;
	if (!fitsI64(aHi) || !fitsI64(aLo) || aHi < 0n) return null;
	const grow = (aHi * PPM_DIV + (PPM_DIV - DRIFT_PPM) - 1n) / (PPM_DIV - DRIFT_PPM);
	const shrink = aLo > 0n ? (aLo * PPM_DIV) / (PPM_DIV + DRIFT_PPM) : 0n;
	return { hiNs: grow, loNs: shrink };
}

/* viewer/net/bound.c with --clock proven (the default): the smaller of the request's bound and
 * the interval's. Results: { status: 'ok' | 'impossible' | 'backwards', age, restarted }. */
export class Bound {
	constructor() {
		this.offset = new Offset();
		this.lastSend = 0n;
		this.pings = [0n, 0n, 0n, 0n];
		this.nextPing = 0;
	}

	ping(v0) {
		this.pings[this.nextPing] = v0;
		this.nextPing = (this.nextPing + 1) % this.pings.length;
		return v0;
	}

	forward(s) {
		if (s < this.lastSend) return false;
		this.lastSend = s;
		return true;
	}

	pong(p, v3) {
		if (!this.forward(p.clock)) return { status: 'backwards' };
		let restarted = false;
		const i = this.pings.findIndex((t) => t !== 0n && t === p.token && p.token <= v3);
		if (i >= 0) {
			restarted = this.offset.add(p.token, p.clock, p.clock, v3) === 'restarted';
			this.pings[i] = 0n;
		}
		return { status: 'ok', restarted };
	}

	frame(f, v0, v3) {
		if (!this.forward(f.sendNs)) return { status: 'backwards', age: null };
		const age = ageCompute(v0, v3, f.held, f.age);
		if (!age) return { status: 'impossible', age: null };
		if (f.held > f.sendNs || f.age > f.sendNs) return { status: 'ok', age };
		const restarted = this.offset.add(v0, f.sendNs - f.held, f.sendNs, v3) === 'restarted';
		const r = this.offset.at(v3);
		if (!r) return { status: 'ok', age, restarted };
		age.widthNs = r.hi - r.lo;
		const a = offsetAge(r.lo, r.hi, v3, f.sendNs - f.age);
		if (a) {
			age.clockNs = a.hiNs;
			age.floorNs = a.loNs;
			if (a.hiNs < age.boundNs) age.boundNs = a.hiNs;
		}
		return { status: 'ok', age, restarted };
	}
}

/* viewer/net/pace.c: the request window, by frames accepted per second. */
export class Pace {
	constructor(max) {
		this.max = max || 1;
		this.window = Math.min(this.max, PACE_START);
		this.epochStart = 0n;
		this.replies = 0;
		this.accepted = 0;
		this.probing = false;
		this.home = 0;
		this.homeRate = 0;
		this.wait = 1;
		this.upNext = false;
		this.since = 0;
	}

	epochEnd(rate, manyLate) {
		if (this.probing) {
			this.probing = false;
			this.since = 0;
			if (rate > this.homeRate * PACE_WIN_RATIO + PACE_WIN_FPS) {
				this.wait = this.window > this.home && this.window < this.max ? 1 : PACE_WAIT_AFTER_WIN;
				return;
			}
			this.upNext = this.window < this.home && this.home < this.max;
			this.window = this.home;
			if (!this.upNext) this.wait = Math.min(this.wait * 2, PACE_WAIT_MAX);
			return;
		}
		this.homeRate = rate;
		if (++this.since < this.wait) return;
		if (manyLate && this.window > 1 && !this.upNext) {
			this.home = this.window--;
			this.probing = true;
		} else if ((!manyLate || this.upNext) && this.window < this.max) {
			this.home = this.window++;
			this.probing = true;
		}
		this.upNext = false;
	}

	reply(accepted, now) {
		if (this.max === 1) return 1;
		if (!this.epochStart) this.epochStart = now;
		this.replies++;
		this.accepted += accepted ? 1 : 0;
		if (now - this.epochStart >= PACE_EPOCH_NS) {
			const secs = Number(now - this.epochStart) / 1e9;
			this.epochEnd(this.accepted / secs, 4 * (this.replies - this.accepted) > this.replies);
			this.epochStart = now;
			this.replies = this.accepted = 0;
		}
		return this.window;
	}
}

/*
 * One connection's exchange, as freshcam-view's network thread runs it (viewer/net/client.c):
 * HELLO both ways, then `window` REQUESTs in flight, each FRAME answered by the next REQUEST
 * first and its VERDICT after; a PING a second; a PONG for every PING. It never touches a socket:
 *
 *   send(bytes)   writes one message (a Uint8Array) to the transport;
 *   now()         the viewer clock, integer ns as a BigInt (monotonic);
 *   grainNs       how coarse now() may be (BigInt ns): readings are widened by it (see the top);
 *   on.hello(h), on.frame(f), on.status(s), on.end(e)   what happened (all optional).
 *
 * Feed it every chunk the transport brings with receive(), call tick() a few times a second, and
 * close() to leave. After on.end it does nothing more; make a new Session for a new connection.
 */
export class Session {
	constructor({ send, now, grainNs = 0n, budgetMs = 80, window = 4, name = 'freshcam-page', on = {} }) {
		this.send = send;
		this.clock = now;
		this.grain = grainNs;
		this.budgetNs = BigInt(Math.round(budgetMs * 1e6));
		this.budgetUs = Math.max(1, Math.floor(budgetMs * 1000));
		this.name = name;
		this.on = on;
		this.pace = new Pace(Math.max(1, Math.min(window, MAX_WINDOW)));
		this.askedWindow = this.pace.max;
		this.bound = new Bound();
		this.reader = new Reader();
		this.out = []; /* unanswered requests, oldest first: { id, v0 } */
		this.nextId = 1;
		this.lastSeq = 0n;
		this.data = null; /* a DATA waiting for the FRAME of its seq, which comes next */
		this.sender = null; /* its HELLO, once in */
		this.ended = false;
		this.counts = { received: 0, accepted: 0, rejected: 0, stale: 0, impossible: 0, restarts: 0 };
		this.lastHeard = this.recvNow();
		this.lastPing = this.lastHeard;
	}

	/* A reading for a send time (grain earlier) and for an arrival (grain later). */
	sendNow() {
		const v = this.clock() - this.grain;
		return v > 0n ? v : 0n;
	}

	recvNow() {
		return this.clock() + this.grain;
	}

	start() {
		this.send(encodeHello({ window: this.askedWindow, budgetUs: this.budgetUs, name: this.name }));
	}

	end(clean, reason) {
		if (this.ended) return;
		this.ended = true;
		this.reason = reason;
		if (this.on.end) this.on.end({ clean, reason });
	}

	violation(why) {
		try {
			this.send(encodeBye(BYE.PROTOCOL, why));
		} catch (e) {
			/* the transport is gone: the violation is still the reason */
		}
		this.end(false, `sender broke the protocol: ${why}`);
	}

	/* The transport closed under us (the sender gone, the network down). */
	lost(why) {
		this.end(false, `connection to the sender lost: ${why}`);
	}

	close(text = 'viewer done') {
		if (this.ended) return;
		try {
			this.send(encodeBye(BYE.NORMAL, text));
		} finally {
			this.end(true, 'stopped');
		}
	}

	sendRequest() {
		const v0 = this.sendNow();
		const id = this.nextId;
		this.nextId = (this.nextId + 1) >>> 0;
		this.out.push({ id, v0 });
		this.send(encodeRequest(id, v0));
	}

	receive(chunk) {
		if (this.ended) return;
		const now = this.recvNow();
		this.lastHeard = now;
		this.reader.push(chunk, now);
		for (;;) {
			let m;
			try {
				m = this.reader.next();
			} catch (e) {
				if (!(e instanceof ProtoError)) throw e;
				this.violation(e.message);
				return;
			}
			if (!m) return;
			this.onMessage(m, this.recvNow());
			if (this.ended) return;
		}
	}

	onMessage(m, now) {
		if (m.type === MSG.BYE) {
			const why = `${m.msg.reason}${m.msg.text ? ': ' + m.msg.text : ''}`;
			this.end(m.msg.reason === BYE.NORMAL, `the sender ended the stream (${why})`);
			return;
		}
		if (!this.sender) {
			if (m.type !== MSG.HELLO) return this.violation('expected HELLO');
			if (m.msg.role !== ROLE_SENDER) {
				try {
					this.send(encodeBye(2, 'both ends are viewers'));
				} finally {
					this.end(false, 'the peer is a viewer, not a sender');
				}
				return;
			}
			this.sender = m.msg;
			if (this.on.hello) this.on.hello(m.msg);
			for (let i = 0; i < this.pace.window; i++) this.sendRequest();
			return;
		}
		switch (m.type) {
		case MSG.FRAME:
			return this.onFrame(m, now);
		case MSG.PING:
			return this.send(encodePong(m.msg.token, this.recvNow()));
		case MSG.PONG: {
			const r = this.bound.pong(m.msg, now);
			if (r.status === 'backwards') return this.violation('the sender clock went backwards');
			if (r.restarted) this.counts.restarts++;
			return;
		}
		case MSG.DATA:
			if (this.data || m.msg.seq <= this.lastSeq)
				return this.violation(`a DATA for frame ${m.msg.seq} out of place`);
			this.data = m.msg;
			return;
		case MSG.STATUS:
			if (this.on.status) this.on.status({ lost: m.msg.source === SOURCE_LOST, text: m.msg.text });
			return;
		default:
			return this.violation(`a sender may not send message type ${m.type} now`);
		}
	}

	onFrame(m, v3) {
		const f = m.msg;
		const o = this.out[0];
		if (!o || f.id !== o.id || f.t0 !== o.v0 || f.seq <= this.lastSeq)
			return this.violation(`FRAME answers request ${f.id}, expected ${o ? o.id : 'none'}`);
		this.out.shift();
		const data = this.data;
		this.data = null;
		if (data && data.seq !== f.seq)
			return this.violation(`a FRAME ${f.seq} after a DATA for frame ${data.seq}`);
		this.lastSeq = f.seq;
		const r = this.bound.frame(f, o.v0, v3);
		if (r.status === 'backwards') return this.violation('the sender clock went backwards');
		if (r.restarted) this.counts.restarts++;
		const boundNs = r.age ? r.age.boundNs : U64_MAX;
		const stale = f.jpeg.length === 0;
		const accepted = !stale && r.status === 'ok' && boundNs <= this.budgetNs;
		/* Ask before the rest, so the sender's wait overlaps our work on this frame. */
		const want = this.pace.reply(accepted, v3);
		while (this.out.length < want) this.sendRequest();
		this.counts.received++;
		if (accepted) this.counts.accepted++;
		else this.counts.rejected++;
		if (stale) this.counts.stale++;
		if (r.status === 'impossible') this.counts.impossible++;
		if (this.on.frame)
			this.on.frame({
				accepted,
				stale,
				jpeg: accepted ? f.jpeg.slice() : null,
				bytes: f.jpeg.length,
				width: f.width,
				height: f.height,
				srcWidth: f.srcWidth,
				srcHeight: f.srcHeight,
				quality: f.quality,
				seq: f.seq,
				/* The document that came with it: only with an accepted frame (section 10). */
				data: accepted && data ? data.doc : undefined,
				boundNs,
				age: r.age,
				v3,
				/* For a true age on the sender's own host only (page.js's trueAge, like
				 * freshcam-view's --check-stamps): never part of the bound. */
				sendRealNs: f.sendRealNs,
				ageAtSendNs: f.age,
				firstNs: m.firstNs,
			});
		if (this.ended) return;
		const first = m.firstNs && m.firstNs < v3 ? m.firstNs : v3;
		this.send(
			encodeVerdict({
				id: f.id,
				seq: f.seq,
				boundNs,
				kind: accepted ? VERDICT_ACCEPTED : VERDICT_LATE,
				recvNs: v3 - first,
				gapNs: m.gapNs,
			}),
		);
	}

	/* Call a few times a second: a PING a second (an exchange for the offset interval, and proof
	 * of life when no frames come), and the end of a sender silent for DEAD_AFTER_NS. */
	tick() {
		if (this.ended) return;
		const now = this.recvNow();
		if (now - this.lastHeard > DEAD_AFTER_NS) {
			try {
				this.send(encodeBye(BYE.TIMEOUT, 'nothing heard for too long'));
			} finally {
				this.end(false, `the sender has been silent for ${Number(DEAD_AFTER_NS / 1000000n)} ms`);
			}
			return;
		}
		if (this.sender && now - this.lastPing > PING_EVERY_NS) {
			this.lastPing = now;
			this.send(encodePing(this.bound.ping(this.sendNow())));
		}
	}
}
