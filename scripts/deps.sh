#!/usr/bin/env bash
# deps.sh installs the Debian packages zedge's tests need, only those that are missing, without asking.
# Add a package with one more `need` line: the Debian package name, then a shell command that succeeds when
# it is already usable.
set -euo pipefail

missing=()
declare -A checks
need() {
	local package=$1 check=$2
	checks[$package]=$check
	if ! bash -c "$check" >/dev/null 2>&1; then
		missing+=("$package")
	fi
}

# Zaqar's own client, driven by the end-to-end tests through /usr/bin/python3.
need python3-zaqarclient "/usr/bin/python3 -c 'import zaqarclient'"
# The websocket library python-zaqarclient's websocket transport imports (zaqarclient.transport.ws).
need python3-websocket "/usr/bin/python3 -c 'import websocket'"
# A private Redis (single instance and a 3-master cluster) for store/redisstore and the multi-node tests.
need redis-server "command -v redis-server"
need redis-tools "command -v redis-cli"
# Headless Chromium for the climate-control web app's browser test, and a font so its screenshots show text.
need chromium "command -v chromium"
need fonts-dejavu-core "test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all test packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null

for package in "${missing[@]}"; do
	if ! bash -c "${checks[$package]}" >/dev/null 2>&1; then
		echo "deps: $package is installed but its check still fails: ${checks[$package]}" >&2
		exit 1
	fi
done
