/* Linked statically against musl by scripts/musl-check.sh: the system-call shim's address,
 * route, socket and file calls work there as under glibc. */
#include <stdio.h>
#include <string.h>
#include "tipring_sys.h"

static int fail(const char *what) {
    fprintf(stderr, "sys_check: %s\n", what);
    return 1;
}

int main(void) {
    uint32_t loopback = 0, source = 0, from = 0;
    uint16_t port = 0;
    char text[16];
    if (tr_ipv4_parse("127.0.0.1", &loopback) != 0) return fail("parse 127.0.0.1");
    if (tr_ipv4_parse("1.2.3", &source) != -EINVAL) return fail("1.2.3 is no address");
    tr_ipv4_format(loopback, text);
    if (strcmp(text, "127.0.0.1") != 0) return fail("format");
    if (tr_route_source(loopback, 5060, &source) != 0 || source != loopback) return fail("route toward loopback");
    int a = -1, b = -1;
    for (uint16_t p = 47000; p < 47100 && b < 0; p += 2) {
        a = tr_udp_open(loopback, p, 46 << 2);
        if (a < 0) continue;
        b = tr_udp_open(loopback, (uint16_t)(p + 1), -1);
        if (b < 0) { tr_close(a); a = -1; } else port = (uint16_t)(p + 1);
    }
    if (a < 0 || b < 0) return fail("two UDP sockets on loopback");
    if (tr_udp_tos(a) != 46 << 2) return fail("TOS read back");
    if (tr_udp_send(a, "hi", 2, loopback, port) != 2) return fail("send");
    char buffer[8];
    ssize_t n = -EAGAIN;
    for (int i = 0; i < 100000 && n == -EAGAIN; i++) n = tr_udp_receive(b, buffer, sizeof buffer, &from, &port);
    if (n != 2 || memcmp(buffer, "hi", 2) != 0 || from != loopback) return fail("receive");
    unsigned mode = 0;
    if (tr_file_mode("/", &mode) != 0) return fail("stat /");
    if (tr_unix_listen("/tmp/this-path-is-far-too-long-for-a-unix-socket-address-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, 0600) != -ENAMETOOLONG)
        return fail("a long socket path is refused");
    tr_close(a);
    tr_close(b);
    tr_memory_trim();
    return 0;
}
