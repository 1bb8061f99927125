#!/bin/sh
# What this box is, and whether TipRing can run on it — before anything is built.
#
# POSIX sh only (busybox ash on stock router firmware, dash, bash); reads /proc, /sys and
# /dev, changes nothing, needs no root (as root it also sees GPIO consumers through
# debugfs). Copy it to the router (scp, or paste into a shell) and run: sh discover.sh
#
# TIPRING_DISCOVER_ROOT=<dir> reads a copied /proc, /sys, /dev and /lib tree instead of the
# live one, and TIPRING_DISCOVER_MACHINE overrides `uname -m` (how the tests feed it other
# boxes).
set -u
root=${TIPRING_DISCOVER_ROOT:-}
machine=${TIPRING_DISCOVER_MACHINE:-$(uname -m 2>/dev/null || echo unknown)}

section() { printf '\n== %s\n' "$1"; }
first_field() { # first "key : value" line of a file whose key matches, value only
  sed -n "s/^$2[[:space:]]*:[[:space:]]*//p" "$1" 2>/dev/null | head -n 1
}

section "cpu"
echo "architecture: $machine"
cpuinfo="$root/proc/cpuinfo"
model=$(first_field "$cpuinfo" 'model name')
[ -n "$model" ] || model=$(first_field "$cpuinfo" 'cpu model')
[ -n "$model" ] || model=$(first_field "$cpuinfo" 'Hardware')
[ -n "$model" ] || model=$(first_field "$cpuinfo" 'system type')
echo "model: ${model:-unknown}"
features=$(first_field "$cpuinfo" 'flags')
[ -n "$features" ] || features=$(first_field "$cpuinfo" 'Features')
[ -n "$features" ] || features=$(first_field "$cpuinfo" 'isa')
echo "features: ${features:-unknown}"
cores=$(grep -c '^processor' "$cpuinfo" 2>/dev/null || echo "?")
echo "cores: $cores"
# Byte order from two bytes as a 16-bit word (od is in busybox).
order=$(printf '\001\000' | od -An -tx2 2>/dev/null | tr -d ' ')
case "$order" in
  0001) echo "byte order: little-endian" ;;
  0100) echo "byte order: big-endian" ;;
  *) echo "byte order: unknown" ;;
esac

section "system"
echo "kernel: $(cat "$root/proc/sys/kernel/osrelease" 2>/dev/null || uname -r 2>/dev/null || echo unknown)"
if [ -r "$root/etc/openwrt_release" ]; then
  echo "firmware: $(sed -n "s/^DISTRIB_DESCRIPTION='\(.*\)'/\1/p" "$root/etc/openwrt_release")"
elif [ -r "$root/etc/os-release" ]; then
  echo "firmware: $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' "$root/etc/os-release")"
fi
# glibc first: a glibc system may carry musl's loader too (Debian's musl-tools), never the
# other way round.
libc=unknown
for f in "$root"/lib/libc.so.6 "$root"/lib/*/libc.so.6 "$root"/lib64/libc.so.6; do
  [ -e "$f" ] && { libc="glibc (${f#"$root"})"; break; }
done
if [ "$libc" = unknown ]; then
  for f in "$root"/lib/ld-musl-*.so.1; do [ -e "$f" ] && libc="musl ($(basename "$f"))"; done
fi
if [ "$libc" = unknown ]; then
  for f in "$root"/lib/ld-uClibc*.so* "$root"/lib/libuClibc*; do [ -e "$f" ] && libc="uClibc ($(basename "$f"))"; done
fi
echo "libc: $libc"

section "memory and flash"
mem=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' "$root/proc/meminfo" 2>/dev/null)
avail=$(sed -n 's/^MemAvailable:[[:space:]]*\([0-9]*\) kB/\1/p' "$root/proc/meminfo" 2>/dev/null)
echo "ram: ${mem:-?} kB, available ${avail:-?} kB"
if [ -z "$root" ]; then
  df -k / /overlay /tmp 2>/dev/null | sed 's/^/  /'
fi
if [ -r "$root/proc/mtd" ]; then
  echo "mtd partitions:"
  sed 's/^/  /' "$root/proc/mtd"
fi

section "gpio"
found=no
for c in "$root"/dev/gpiochip*; do
  [ -e "$c" ] || continue
  found=yes
  n=$(basename "$c")
  label=$(cat "$root/sys/bus/gpio/devices/$n/label" 2>/dev/null || cat "$root/sys/class/gpio/$n/label" 2>/dev/null || echo "?")
  echo "$n: label ${label}"
done
[ "$found" = yes ] || echo "no /dev/gpiochip* (no GPIO character device: libgpiod cannot be used)"
if command -v gpioinfo >/dev/null 2>&1 && [ -z "$root" ]; then
  echo "lines (gpioinfo):"
  gpioinfo 2>/dev/null | sed 's/^/  /'
elif [ -r "$root/sys/kernel/debug/gpio" ]; then
  echo "lines in use (debugfs):"
  sed 's/^/  /' "$root/sys/kernel/debug/gpio"
else
  echo "line names and consumers: install gpioinfo (libgpiod tools) or run as root with debugfs mounted"
fi
if [ -d "$root/sys/class/gpio" ]; then
  echo "sysfs gpio: present"
  for b in "$root"/sys/class/gpio/gpiochip*; do
    [ -d "$b" ] || continue
    echo "  $(basename "$b"): base $(cat "$b/base" 2>/dev/null), $(cat "$b/ngpio" 2>/dev/null) lines, label $(cat "$b/label" 2>/dev/null)"
  done
else
  echo "sysfs gpio: absent"
fi

section "audio"
if [ -r "$root/proc/asound/cards" ]; then
  echo "alsa cards:"
  sed 's/^/  /' "$root/proc/asound/cards"
  echo "alsa pcms:"
  sed 's/^/  /' "$root/proc/asound/pcm" 2>/dev/null
else
  echo "no ALSA (/proc/asound missing): the phone port's audio is not an ALSA device here"
fi

section "spi"
spi=no
for s in "$root"/dev/spidev*; do [ -e "$s" ] && { spi=yes; echo "$(basename "$s")"; }; done
[ "$spi" = yes ] || echo "no /dev/spidev* (a SPI SLIC would need a kernel driver or spidev)"

section "who holds the hardware"
held=no
for fd in "$root"/proc/[0-9]*/fd/*; do
  t=$(readlink "$fd" 2>/dev/null) || continue
  case "$t" in
    /dev/snd/*|/dev/gpiochip*|/dev/spidev*|/dev/slic*|/dev/phone*|/dev/voip*)
      p=${fd#"$root"/proc/}; p=${p%%/*}
      echo "pid $p ($(cat "$root/proc/$p/comm" 2>/dev/null)) holds $t"
      held=yes ;;
  esac
done
[ "$held" = yes ] || echo "nothing holds a sound, GPIO or SPI device (or run as root to see other users' processes)"

section "verdict"
case "$machine" in
  x86_64|amd64|aarch64|arm64)
    case "$libc" in
      glibc*) echo "TipRing can run here natively (a glibc build for $machine)." ;;
      musl*) echo "TipRing needs a musl build here (the Swift static Linux SDK for $machine; the C shims build with musl)." ;;
      *) echo "TipRing can run here as a static build (the Swift static Linux SDK for $machine): the libc is $libc." ;;
    esac ;;
  mips*|mipsel*|mips64*)
    echo "TipRing cannot run here: $machine has no Swift toolchain. Use a small ARM or x86 box beside it, or drive this box's phone port from one." ;;
  armv7*|armv6*|arm)
    echo "TipRing cannot run here yet: 32-bit ARM ($machine) has no Swift static Linux SDK." ;;
  *)
    echo "TipRing cannot run here: no Swift toolchain for $machine." ;;
esac
if [ "$found" = no ]; then
  echo "The phone port's SLIC is not reachable through GPIO character devices: find its driver (see 'who holds the hardware')."
fi
