/*
 * auth.js: the page's way in when the sender has a passphrase (docs/HTTP.md, "Who may watch").
 * It derives HTTP's key from the passphrase as the sender does (PBKDF2-SHA256 with the salt and
 * iterations /auth/challenge publishes), answers the challenge's nonce with
 * HMAC-SHA256(key, "fc-http-proof " + nonce), and so earns the session cookie that the WebSocket
 * needs. The passphrase is never sent, nor kept: only the derived key, as a non-extractable
 * CryptoKey in this page's memory, to prove again when the sender restarts.
 */
const enc = new TextEncoder();
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

let key = null; /* the HMAC key, once a passphrase was proven */

async function challenge() {
	const r = await fetch('/auth/challenge', { cache: 'no-store' });
	if (!r.ok) throw new Error(`the sender answered ${r.status} to /auth/challenge`);
	const c = await r.json();
	return c.passphrase ? c : null; /* null: no passphrase, nothing to prove */
}

/* Whether the sender has a passphrase (guarded), and whether this page must ask for it (it has
 * no session yet). */
export async function passphraseNeeded() {
	const c = await challenge();
	if (!c) return { guarded: false, needed: false };
	return { guarded: true, needed: (await fetch('/state', { cache: 'no-store' })).status === 401 };
}

async function prove(k) {
	const c = await challenge();
	if (!c) return { ok: true };
	const mac = await crypto.subtle.sign('HMAC', k, enc.encode('fc-http-proof ' + c.nonce));
	const r = await fetch(`/auth/prove?nonce=${c.nonce}&proof=${hex(mac)}`, { cache: 'no-store' });
	if (r.ok) return { ok: true };
	if (r.status === 429) {
		const s = r.headers.get('retry-after') || '?';
		return { ok: false, why: `too many wrong tries from here: try again in ${s} s` };
	}
	return { ok: false, why: 'wrong passphrase' };
}

/* Derives the key from passphrase and proves it: { ok } or { ok: false, why }. */
export async function login(passphrase) {
	if (!self.crypto || !crypto.subtle)
		return { ok: false, why: 'this browser allows WebCrypto only over HTTPS or on localhost: put TLS in front of the sender (docs/HTTP.md)' };
	const c = await challenge();
	if (!c) return { ok: true };
	const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
	const k = await crypto.subtle.deriveKey(
		{ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(c.salt), iterations: c.iterations },
		base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
	const res = await prove(k);
	if (res.ok) key = k;
	return res;
}

/* After the WebSocket was refused (the session ended: a restart, 12 hours): proves again with
 * the key this page derived, if it has one. */
export async function reprove() {
	return key ? prove(key) : { ok: false, why: 'the passphrase is needed' };
}
