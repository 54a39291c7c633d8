#!/usr/bin/env bash
# Installs Debian's chromium for the playground's e2e test (npm run test:e2e),
# which drives /usr/bin/chromium with playwright-core and downloads no browser.
# Does nothing when it is already there. Needs root (CI runs as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
	echo "install-chromium: /usr/bin/chromium is already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-chromium: /usr/bin/chromium is missing; run this script as root (it calls apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
/usr/bin/chromium --version
