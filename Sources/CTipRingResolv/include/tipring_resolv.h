#ifndef TIPRING_RESOLV_H
#define TIPRING_RESOLV_H
#include <stdint.h>

/* DNS look-ups: the system's servers through the C library's resolver (glibc: res_nquery
 * with our timeouts; musl: res_query), a given server by a UDP exchange of our own; answers
 * parsed with ns_parserr. */

typedef struct {
    uint16_t priority;
    uint16_t weight;
    uint16_t port;
    uint32_t ttl;
    char target[256];
} tipring_srv_record;

typedef struct {
    char address[46];   /* dotted IPv4, or IPv6 in its compressed text form */
    uint32_t ttl;
} tipring_address_record;

/* Results: >= 0 records found; TIPRING_DNS_NONAME when the name or the record type does not
 * exist; TIPRING_DNS_FAILED when no server answered (or the answer did not parse).
 * `nameserver` (dotted IPv4, may be NULL) and `port` (0 = 53) replace the system's
 * configured servers; `timeout_seconds`/`attempts` (0 = the resolver's defaults) bound the wait. */
#define TIPRING_DNS_NONAME (-1)
#define TIPRING_DNS_FAILED (-2)

/* Asks for `type` records (TIPRING_DNS_TYPE_SRV, _A or _AAAA) of `name`; the raw answer goes to `answer`,
 * its length (at most `size`) to *length. 0, or one of the results above. */
#define TIPRING_DNS_TYPE_A 1
#define TIPRING_DNS_TYPE_AAAA 28
#define TIPRING_DNS_TYPE_SRV 33
int tipring_dns_query(const char *name, int type, const char *nameserver, int port, int timeout_seconds,
                      int attempts, unsigned char *answer, int size, int *length);

/* The answer parsers (pure functions over the bytes a server sent; fuzzed): records found
 * (at most `max`), TIPRING_DNS_NONAME when none, TIPRING_DNS_FAILED when it does not parse. */
int tipring_dns_parse_srv(const unsigned char *answer, int length, tipring_srv_record *out, int max);
/* `type` TIPRING_DNS_TYPE_A or _AAAA: the answer's addresses of that type. */
int tipring_dns_parse_addresses(const unsigned char *answer, int length, int type, tipring_address_record *out, int max);

#endif
