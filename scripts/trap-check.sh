#!/usr/bin/env bash
# Fails when code that reads network data could trap: a force-unwrap (`x!`, `try!`, `as!`),
# a narrowing integer conversion without a stated behaviour (`UInt16(x)` instead of
# `UInt16(exactly:)`, `(clamping:)`, `(truncatingIfNeeded:)`, `(bitPattern:)`), or a
# floating-point value turned into an integer unchecked. Widening a received byte
# (`UInt32(b[i])`) and `UInt8(ascii:)` are fine. The files: every parser of what peers send.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(
  Sources/TipRingCore/ASCIIDecimal.swift Sources/TipRingCore/JSON5.swift
  Sources/SIPCore/SIPParser.swift Sources/SIPCore/SIPMessage.swift Sources/SIPCore/SIPHeaders.swift
  Sources/SIPCore/SIPURI.swift Sources/SIPCore/ByteChecks.swift Sources/SIPCore/HeaderNumbers.swift
  Sources/SIPCore/SDP.swift Sources/SIPCore/DigestAuth.swift Sources/SIPCore/ServerLocation.swift
  Sources/SIPCore/RegistrationClient.swift Sources/SIPCore/Transaction.swift Sources/SIPCore/Call/*.swift
  Sources/SIPAgent/AccountAgent.swift Sources/SIPAgent/RegistrationSession.swift Sources/SIPAgent/TransactionRunner.swift
  Sources/SIPAgent/SIPUserAgent*.swift
  Sources/RTPMedia/RTPPacket.swift Sources/RTPMedia/RTCP.swift Sources/RTPMedia/TelephoneEvents.swift
  Sources/RTPMedia/RTPSourceScreen.swift Sources/RTPMedia/JitterBuffer.swift
  Sources/RTPMedia/MediaBridge.swift Sources/RTPMedia/PortMedia.swift Sources/RTPMedia/PolledMediaSocket.swift
  Sources/SIPTransport/UDPTransport.swift Sources/SIPTransport/TCPTransport.swift
  Sources/SIPTransport/UDPAccountEndpoint.swift Sources/SIPTransport/TCPAccountEndpoint.swift
  Sources/SIPTransport/SystemResolver.swift
  Sources/TelephonyDSP/CallerIDMessage.swift
  Sources/TipRingDaemon/Web/WebServer.swift
)
# A file that moved must move here too: a list that names nothing checks nothing.
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "trap-check: $f does not exist (moved? update the list)" >&2; exit 1; }
done
[ "${1:-}" = "--list" ] && { printf '%s\n' "${files[@]}"; exit 0; }
found=0
check() {  # pattern, what it is
  local hits
  hits=$(grep -nP "$1" "${files[@]}" | grep -vP '^[^:]+:\d+:\s*//' || true)
  if [ -n "$hits" ]; then
    echo "trap-check: $2:" >&2
    echo "$hits" | sed 's/^/  /' >&2
    found=1
  fi
}
check '(?<![!=<>])[\w)\]]!(?!=)|\btry!|\bas!' "force-unwrap on a network path (use guard let / if let)"
check '\b(U?Int(8|16|32))\((?!(truncatingIfNeeded|clamping|exactly|bitPattern|ascii|saturating|bigEndian):)(?![a-z]*\[[^\]]*\]\))' \
      "narrowing integer conversion that can trap (say exactly:, clamping: or truncatingIfNeeded:)"
# A line that computes in floating point and converts to an integer without a stated
# behaviour: Int64(x * 1e9) traps on NaN, infinity and overflow (use Int64(saturating:)).
check '^(?=.*\b(U?Int(64)?)\((?!(truncatingIfNeeded|clamping|exactly|bitPattern|saturating):)).*(\de\d|\.rounded\(|Double\(|\.unit\(\))' \
      "a floating-point value turned into an integer unchecked (it traps on NaN, ∞ and overflow)"
if [ "$found" -ne 0 ]; then
  echo "trap-check: FAILED — nothing a peer sends may make TipRing trap" >&2
  exit 1
fi
echo "trap-check: ${#files[@]} network-facing files, no trapping construct"
