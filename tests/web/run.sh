#!/bin/sh
# Runs one of the web tests with node, or skips it (exit 77, which ctest shows as a skip) where
# node is missing: tests/CMakeLists.txt registers each as `run.sh SCRIPT BINDIR`.
command -v node >/dev/null 2>&1 || {
	echo "skipped: node is not installed (apt-get install nodejs)"
	exit 77
}
exec node "$@"
