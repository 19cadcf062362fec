/*
 * The live page (web/) in Firefox: Debian's firefox-esr, headless, driven over its own remote
 * protocol, Marionette (marionette.mjs; playwright-core drives only its own patched Firefox and
 * geckodriver is not packaged). The checks are pagechecks.mjs's, the same as test_page.mjs makes
 * in Chromium: the stream shows, its figures, NO SIGNAL, and the passphrase. Skips (77) where
 * firefox-esr is not installed.
 */
import fs from 'node:fs';
import { Skip, main } from './harness.mjs';
import { FIREFOX, shared } from './marionette.mjs';
import { pageShowsTheStream, pageWithPassphrase } from './pagechecks.mjs';

async function firefox() {
	if (!fs.existsSync(FIREFOX)) throw new Skip(`${FIREFOX} is missing (apt-get install firefox-esr)`);
	return shared();
}

main(
	function test_page_shows_the_stream() {
		return pageShowsTheStream(firefox, 'firefox');
	},
	function test_page_with_passphrase() {
		return pageWithPassphrase(firefox, 'firefox');
	},
);
