#!/usr/bin/env bash
# install-chromium.sh installs Debian's chromium for the web UI's browser tests
# (integration/webui_test.go runs it from TestMain) and prints its path.
# It does nothing when a chromium is already on PATH. apt-get needs root:
# run as root or with sudo available (CI runs as root).
set -euo pipefail

find_chromium() {
	command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

path=$(find_chromium)
if [ -z "$path" ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "install-chromium.sh: chromium is not installed and apt-get needs root; run as root, install sudo, or apt-get install chromium" >&2
			exit 1
		}
		sudo="sudo -n"
	fi
	# One install at a time: parallel test binaries may call this together.
	exec 9>"${TMPDIR:-/tmp}/spate-install-chromium.lock"
	flock 9
	path=$(find_chromium)
	if [ -z "$path" ]; then
		export DEBIAN_FRONTEND=noninteractive
		$sudo apt-get update -q >&2
		$sudo apt-get install -y -q --no-install-recommends chromium >&2
		path=$(find_chromium)
	fi
fi
[ -n "$path" ] || { echo "install-chromium.sh: chromium is still not on PATH after apt-get install" >&2; exit 1; }
echo "$path"
