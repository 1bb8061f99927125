#include "tipring_resolv.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

int tipring_dns_query(const char *name, int type, const char *nameserver, int port, int timeout_seconds,
                      int attempts, unsigned char *answer, int size, int *length) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return TIPRING_DNS_FAILED;
    if (nameserver != NULL) {
        struct in_addr a;
        if (inet_pton(AF_INET, nameserver, &a) != 1) { res_nclose(&state); return TIPRING_DNS_FAILED; }
        state.nsaddr_list[0].sin_family = AF_INET;
        state.nsaddr_list[0].sin_addr = a;
        state.nsaddr_list[0].sin_port = htons((uint16_t)(port > 0 ? port : 53));
        state.nscount = 1;
    }
    if (timeout_seconds > 0) state.retrans = timeout_seconds;
    if (attempts > 0) state.retry = attempts;
    int n = res_nquery(&state, name, ns_c_in, type, answer, size);
    int herr = state.res_h_errno;
    res_nclose(&state);
    if (n < 0) return (herr == HOST_NOT_FOUND || herr == NO_DATA) ? TIPRING_DNS_NONAME : TIPRING_DNS_FAILED;
    /* res_nquery returns the answer's whole length even when it did not fit the buffer. */
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

int tipring_dns_parse_a(const unsigned char *answer, int length, tipring_a_record *out, int max) {
    ns_msg msg;
    if (length < 0 || ns_initparse(answer, length, &msg) != 0) return TIPRING_DNS_FAILED;
    int count = 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an) && count < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return TIPRING_DNS_FAILED;
        if (ns_rr_type(rr) != ns_t_a || ns_rr_rdlen(rr) != 4) continue;
        if (inet_ntop(AF_INET, ns_rr_rdata(rr), out[count].address, sizeof out[count].address) == NULL) continue;
        out[count].ttl = ns_rr_ttl(rr);
        count++;
    }
    return count == 0 ? TIPRING_DNS_NONAME : count;
}
