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
  # Its own user (and the audio group), and the GPIO chips given to that user's group.
  install -D -m 0644 packaging/systemd/tipring.sysusers "$dest/usr/lib/sysusers.d/tipring.conf"
  install -D -m 0644 packaging/udev/60-tipring.rules "$dest/etc/udev/rules.d/60-tipring.rules"
  if [ -z "$dest" ]; then
    systemd-sysusers /usr/lib/sysusers.d/tipring.conf
    udevadm control --reload && udevadm trigger --subsystem-match=gpio || true
    # The daemon reads its configuration (passwords in it: not for others).
    chgrp tipring /etc/tipring/tipring.json5 && chmod 0640 /etc/tipring/tipring.json5
  fi
fi
echo "installed; link /etc/tipring/board.json5 to your board (e.g. boards/b222s.json5) and edit /etc/tipring/tipring.json5"
