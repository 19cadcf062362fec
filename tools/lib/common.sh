# Shared by tools/check, tools/demo and tools/package: find the project, install what is
# missing, build.
# Sourced, not run. Everything here is idempotent: a second run installs and rebuilds nothing.

FC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fc_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# fc_ensure_packages PKG...: installs the Debian packages that are not installed yet.
fc_ensure_packages() {
	local missing=() p
	for p in "$@"; do
		# NodeSource's nodejs (on some machines instead of Debian's) bundles npm and conflicts
		# with Debian's npm package: a working npm command is enough.
		[ "$p" = npm ] && command -v npm >/dev/null && continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null ||
		fc_die "missing packages (${missing[*]}) and no apt-get: install them by hand"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			fc_die "missing packages (${missing[*]}): run as root or install sudo"
		sudo=(sudo)
	fi
	fc_say "installing ${missing[*]}"
	# An old package list finds nothing: refresh it once, then install without questions.
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		fc_die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || fc_die "apt-get install ${missing[*]} failed"
}

# What building and running freshcam needs.
FC_BUILD_PACKAGES=(gcc make cmake pkg-config libturbojpeg0-dev libjpeg62-turbo-dev
	libsdl2-dev libcmocka-dev python3
	linux-libc-dev libsodium-dev zlib1g-dev libavformat-dev libavcodec-dev libavutil-dev
	libwebsockets-dev)
# What the tests add: real V4L2 clients that prove the fake camera (tools/fakecam), and setpriv
# (util-linux) for the permission test, tcpdump to prove private streams unreadable on the wire,
# iproute2 (ip, tc) for the shaped link between network namespaces, a virtual X server with
# xwd and xwininfo for the window's test (tests/e2e/test_window.py), ping and iperf3 to
# measure tools/linkemu's link from outside (tests/e2e/test_linkemu.py), man (man-db) to render
# the man pages, bash-completion and bash for the completion's test, systemd-analyze (systemd)
# to verify the units, dpkg-dev (dpkg-shlibdeps) and lintian to make and check the Debian
# package (tools/package, tests/e2e/test_package.py), and node, npm, chromium and firefox-esr for
# the live page's tests (tests/web: the protocol in JavaScript, the page in Chromium driven by
# playwright-core and in Firefox driven over Marionette), and nginx-light, openssl and curl for
# HTTPS through nginx with a certificate of the test's own (tests/e2e/test_https.py), and
# xdotool to press keys and click in the window under Xvfb (test_fleet.py, test_control.py), and
# libjpeg-turbo-progs for djpeg (frames put together from parts, test_parts.py) and tjbench.
FC_TEST_PACKAGES=(v4l-utils ffmpeg ustreamer util-linux valgrind tcpdump iproute2 xvfb x11-apps
	x11-utils iperf3 iputils-ping man-db bash-completion systemd dpkg-dev lintian nodejs npm
	chromium firefox-esr nginx-light openssl curl xdotool libjpeg-turbo-progs)

# fc_build DIR [CMAKE ARGS...]: configures (once) and builds into DIR.
fc_build() {
	local dir=$1
	shift
	cmake -S "$FC_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null ||
		fc_die "cmake configure failed for $dir"
	cmake --build "$dir" -j"$(nproc)" -- --no-print-directory >/dev/null 2>"$dir.log" || {
		cat "$dir.log" >&2
		fc_die "build failed in $dir"
	}
}
