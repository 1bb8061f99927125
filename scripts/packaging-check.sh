#!/usr/bin/env bash
# The service files as a plain Debian 12 takes them: the systemd unit verifies clean, every
# user and group it names exists there (base-passwd's) or is made by our sysusers file — no
# "216/GROUP" on a first start — the udev rule gives the GPIO chips to that group, and the
# OpenWrt init script parses.
# usage: scripts/packaging-check.sh [BINARY]   (default .build/debug/tipring)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.build/debug/tipring}")
unit=packaging/systemd/tipring.service
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# systemd-analyze checks the executable exists: the copy runs the built one.
sed "s#/usr/bin/tipring#$bin#" "$unit" > "$work/tipring.service"
systemd-analyze verify "$work/tipring.service"
echo "systemd-analyze verify $unit: clean"

mkdir -p "$work/root/etc"
cp /usr/share/base-passwd/passwd.master "$work/root/etc/passwd"
cp /usr/share/base-passwd/group.master "$work/root/etc/group"
systemd-sysusers --root="$work/root" "$PWD/packaging/systemd/tipring.sysusers"
fail=0
for u in $(sed -n 's/^User=//p' "$unit"); do
  grep -q "^$u:" "$work/root/etc/passwd" || { echo "error: $unit runs as user $u, which neither Debian nor tipring.sysusers makes" >&2; fail=1; }
done
for g in $(sed -n 's/^Group=//p; s/^SupplementaryGroups=//p' "$unit"); do
  grep -q "^$g:" "$work/root/etc/group" || { echo "error: $unit asks for group $g, which neither Debian nor tipring.sysusers makes" >&2; fail=1; }
done
grep -q '^audio:.*tipring' "$work/root/etc/group" || { echo "error: the tipring user is not in the audio group" >&2; fail=1; }
for g in $(grep -o 'GROUP="[^"]*"' packaging/udev/60-tipring.rules | cut -d'"' -f2); do
  grep -q "^$g:" "$work/root/etc/group" || { echo "error: 60-tipring.rules gives the GPIO chips to group $g, which nobody makes" >&2; fail=1; }
done
[ "$fail" = 0 ] || exit 1
echo "users and groups: $(sed -n 's/^User=//p' "$unit") and its groups exist on a plain Debian 12 once tipring.sysusers ran"
sh -n packaging/openwrt/tipring.init
echo "packaging/openwrt/tipring.init: parses"
