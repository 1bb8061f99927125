/* Linked statically against musl by scripts/musl-check.sh: the system-call shim's address,
 * route, socket, lock and file calls work there as under glibc — IPv4 and IPv6. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tipring_sys.h"

static int fail(const char *what) {
    fprintf(stderr, "sys_check: %s\n", what);
    return 1;
}

/* Two sockets on `host`, a datagram from one to the other with its source. */
static int exchange(const char *host) {
    tr_endpoint local, source, from;
    if (tr_ip_parse(host, &local) != 0) return fail("parse a loopback address");
    if (tr_route_source(&local, &source) != 0 || memcmp(source.address, local.address, 16) != 0) return fail("route toward loopback");
    int a = -1, b = -1;
    tr_endpoint pa = local, pb = local;
    for (uint16_t p = 47000; p < 47100 && b < 0; p += 2) {
        pa.port = p;
        a = tr_udp_open(&pa, 46 << 2);
        if (a < 0) continue;
        pb.port = (uint16_t)(p + 1);
        b = tr_udp_open(&pb, -1);
        if (b < 0) { tr_close(a); a = -1; }
    }
    if (a < 0 || b < 0) return fail("two UDP sockets on loopback");
    if (tr_udp_tos(a, local.family) != 46 << 2) return fail("TOS / traffic class read back");
    if (tr_udp_send(a, "hi", 2, &pb) != 2) return fail("send");
    char buffer[8];
    ssize_t n = -EAGAIN;
    for (int i = 0; i < 100000 && n == -EAGAIN; i++) n = tr_udp_receive(b, buffer, sizeof buffer, &from);
    if (n != 2 || memcmp(buffer, "hi", 2) != 0 || from.family != local.family || from.port != pa.port) return fail("receive");
    char text[46];
    tr_ip_format(&from, text);
    if (strcmp(text, host) != 0) return fail("format the source");
    tr_close(a);
    tr_close(b);
    return 0;
}

int main(void) {
    tr_endpoint e;
    if (tr_ip_parse("1.2.3", &e) != -EINVAL) return fail("1.2.3 is no address");
    if (exchange("127.0.0.1") || exchange("::1")) return 1;
    unsigned mode = 0;
    if (tr_file_mode("/", &mode) != 0) return fail("stat /");
    if (tr_unix_listen("/tmp/this-path-is-far-too-long-for-a-unix-socket-address-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, 0600) != -ENAMETOOLONG)
        return fail("a long socket path is refused");
    char lock[64];
    snprintf(lock, sizeof lock, "/tmp/tipring-musl-lock-%d", (int)getpid());
    int holder = 0;
    int fd = tr_lock_exclusive(lock, &holder);
    if (fd < 0) return fail("take a lock");
    tr_close(fd);
    unlink(lock);
    tr_memory_trim();
    return 0;
}
