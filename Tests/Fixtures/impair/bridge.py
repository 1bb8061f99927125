#!/usr/bin/env python3
"""A lossy, jittery Ethernet bridge between two interfaces (this kernel has no netem).

Run in a network namespace of its own holding both interfaces (no addresses, so the kernel
there forwards nothing itself): every frame that arrives on one side leaves on the other,
except a share of the IPv4 UDP frames, which are dropped, and every UDP frame is held back a
random 0..JITTER ms (so they also arrive out of order). ARP and the rest pass at once.
Usage: bridge.py IFACE_A IFACE_B LOSS JITTER_MS SEED
"""
import heapq, random, select, socket, sys, time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

def main():
    a, b, loss, jitter_ms, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    rng = random.Random(seed)
    socks = {}
    for name in (a, b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, ETH_P_ALL))  # protocol 0 here would receive nothing
        socks[name] = s
    other = {a: socks[b], b: socks[a]}
    by_fd = {s.fileno(): name for name, s in socks.items()}
    pending = []  # (due, sequence, socket, frame)
    sequence = 0
    counts = {"passed": 0, "dropped": 0}
    print(f"bridge {a}<->{b} loss {loss} jitter {jitter_ms} ms", flush=True)
    while True:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, frame = heapq.heappop(pending)
            out.send(frame)
        timeout = max(0.0, pending[0][0] - now) if pending else 1.0
        ready, _, _ = select.select(list(socks.values()), [], [], timeout)
        for s in ready:
            frame, address = s.recvfrom(65535)
            if address[2] == PACKET_OUTGOING:
                continue  # our own copy of what we sent
            out = other[by_fd[s.fileno()]]
            udp = len(frame) > 23 and frame[12:14] == b"\x08\x00" and frame[23] == 17
            if udp and rng.random() < loss:
                counts["dropped"] += 1
                continue
            counts["passed"] += 1
            if udp:
                # veths leave UDP checksums to "hardware" that is not there (checksum offload):
                # re-sent from here they would be dropped as corrupt. 0 means "no checksum" in IPv4.
                header = (frame[14] & 0x0F) * 4
                frame = frame[:14 + header + 6] + b"\x00\x00" + frame[14 + header + 8:]
            if udp and jitter_ms > 0:
                sequence += 1
                heapq.heappush(pending, (time.monotonic() + rng.random() * jitter_ms / 1000, sequence, out, frame))
            else:
                out.send(frame)

if __name__ == "__main__":
    main()
