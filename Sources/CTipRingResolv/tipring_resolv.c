#include "tipring_resolv.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One question to one given server over UDP (the tests' dnsmasq, or a configured server): the
 * query built by res_mkquery, sent from a socket of our own, and the first datagram that comes
 * from that server with our query's id taken as the answer — anything else arriving on the
 * socket is ignored. Works the same with glibc and musl (musl has no res_nquery). */
static int query_server(const char *name, int type, const char *nameserver, int port, int timeout_seconds,
                        int attempts, unsigned char *answer, int size, int *length) {
    unsigned char query[512];
    int qlen = res_mkquery(ns_o_query, name, ns_c_in, type, NULL, 0, NULL, query, sizeof query);
    if (qlen < 12) return TIPRING_DNS_FAILED;
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)(port > 0 && port < 65536 ? port : 53));
    if (inet_pton(AF_INET, nameserver, &server.sin_addr) != 1) return TIPRING_DNS_FAILED;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return TIPRING_DNS_FAILED;
    int waitMs = (timeout_seconds > 0 ? timeout_seconds : 2) * 1000;
    int result = TIPRING_DNS_FAILED;
    for (int attempt = 0; attempt < (attempts > 0 ? attempts : 2) && result == TIPRING_DNS_FAILED; attempt++) {
        if (sendto(fd, query, (size_t)qlen, 0, (struct sockaddr *)&server, sizeof server) != qlen) break;
        for (;;) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int ready = poll(&p, 1, waitMs);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) break;  /* this attempt timed out */
            struct sockaddr_in from;
            socklen_t fromLength = sizeof from;
            ssize_t n = recvfrom(fd, answer, (size_t)size, 0, (struct sockaddr *)&from, &fromLength);
            if (n < 12) continue;
            if (from.sin_addr.s_addr != server.sin_addr.s_addr || from.sin_port != server.sin_port) continue;
            if (answer[0] != query[0] || answer[1] != query[1] || !(answer[2] & 0x80)) continue;
            int rcode = answer[3] & 0x0F;
            if (rcode == 3) { result = TIPRING_DNS_NONAME; break; }   /* NXDOMAIN */
            if (rcode != 0) break;                                     /* SERVFAIL, REFUSED, …: next attempt */
            *length = (int)n;
            result = 0;
            break;
        }
    }
    close(fd);
    return result;
}

int tipring_dns_query(const char *name, int type, const char *nameserver, int port, int timeout_seconds,
                      int attempts, unsigned char *answer, int size, int *length) {
    if (name == NULL || answer == NULL || length == NULL || size <= 0) return TIPRING_DNS_FAILED;
    if (nameserver != NULL) return query_server(name, type, nameserver, port, timeout_seconds, attempts, answer, size, length);
#ifdef __GLIBC__
    /* The system's servers through a resolver state of our own (thread-safe), with our bounds
     * on how long a look-up may block. */
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return TIPRING_DNS_FAILED;
    if (timeout_seconds > 0) state.retrans = timeout_seconds;
    if (attempts > 0) state.retry = attempts;
    int n = res_nquery(&state, name, ns_c_in, type, answer, size);
    int herr = state.res_h_errno;
    res_nclose(&state);
#else
    /* musl: res_query with the system's servers and resolv.conf's own timeout and attempts. */
    int n = res_query(name, ns_c_in, type, answer, size);
    int herr = h_errno;
#endif
    if (n < 0) return (herr == HOST_NOT_FOUND || herr == NO_DATA) ? TIPRING_DNS_NONAME : TIPRING_DNS_FAILED;
    /* The resolver returns the answer's whole length even when it did not fit the buffer. */
    *length = n > size ? size : n;
    return 0;
}

int tipring_dns_parse_srv(const unsigned char *answer, int length, tipring_srv_record *out, int max) {
    ns_msg msg;
    if (length < 0 || ns_initparse(answer, length, &msg) != 0) return TIPRING_DNS_FAILED;
    int count = 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an) && count < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return TIPRING_DNS_FAILED;
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
        const unsigned char *rd = ns_rr_rdata(rr);
        tipring_srv_record *r = &out[count];
        r->priority = ns_get16(rd);
        r->weight = ns_get16(rd + 2);
        r->port = ns_get16(rd + 4);
        r->ttl = ns_rr_ttl(rr);
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, r->target, sizeof r->target) < 0) return TIPRING_DNS_FAILED;
        count++;
    }
    return count == 0 ? TIPRING_DNS_NONAME : count;
}

int tipring_dns_parse_addresses(const unsigned char *answer, int length, int type, tipring_address_record *out, int max) {
    int family = type == ns_t_aaaa ? AF_INET6 : AF_INET;
    int size = type == ns_t_aaaa ? 16 : 4;
    if (type != ns_t_a && type != ns_t_aaaa) return TIPRING_DNS_FAILED;
    ns_msg msg;
    if (length < 0 || ns_initparse(answer, length, &msg) != 0) return TIPRING_DNS_FAILED;
    int count = 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an) && count < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return TIPRING_DNS_FAILED;
        if ((int)ns_rr_type(rr) != type || (int)ns_rr_rdlen(rr) != size) continue;
        if (inet_ntop(family, ns_rr_rdata(rr), out[count].address, sizeof out[count].address) == NULL) continue;
        out[count].ttl = ns_rr_ttl(rr);
        count++;
    }
    return count == 0 ? TIPRING_DNS_NONAME : count;
}
