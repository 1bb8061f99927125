#!/usr/bin/env bash
# Installs TipRing: the static release binary, board files, an example configuration and
# the service file (systemd, or OpenWrt's procd with --openwrt). DESTDIR for staging.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${DESTDIR:-}"
bin=$(scripts/release-build.sh)
install -D -m 0755 "$bin" "$dest/usr/bin/tipring"
strip "$dest/usr/bin/tipring" || true
install -d -m 0755 "$dest/etc/tipring/boards"
install -m 0644 boards/*.json5 "$dest/etc/tipring/boards/"
[ -e "$dest/etc/tipring/tipring.json5" ] || install -m 0600 examples/tipring.json5 "$dest/etc/tipring/tipring.json5"
if [ "${1:-}" = "--openwrt" ]; then
  install -D -m 0755 packaging/openwrt/tipring.init "$dest/etc/init.d/tipring"
else
  install -D -m 0644 packaging/systemd/tipring.service "$dest/lib/systemd/system/tipring.service"
fi
echo "installed; link /etc/tipring/board.json5 to your board (e.g. boards/b222s.json5) and edit /etc/tipring/tipring.json5"
