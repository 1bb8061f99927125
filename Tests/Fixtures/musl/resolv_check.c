/* Runs the resolver shim linked statically against musl: the answer parser on a hand-made
 * response (one A record), and a look-up at a server that does not answer, which must fail
 * within its bound. Exit 0 when both hold. */
#include <stdio.h>
#include <string.h>
#include "tipring_resolv.h"

int main(void) {
    const unsigned char response[] = {
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  /* header: 1 question, 1 answer */
        0x01, 'a', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,       /* a.test A IN */
        0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04,  /* → a.test A IN ttl 60 */
        192, 0, 2, 7,
    };
    tipring_address_record records[4];
    int n = tipring_dns_parse_addresses(response, (int)sizeof response, TIPRING_DNS_TYPE_A, records, 4);
    if (n != 1 || strcmp(records[0].address, "192.0.2.7") != 0 || records[0].ttl != 60) {
        fprintf(stderr, "resolv_check: parsed %d record(s), first %s\n", n, n > 0 ? records[0].address : "-");
        return 1;
    }
    if (tipring_dns_parse_addresses(response, 11, TIPRING_DNS_TYPE_A, records, 4) != TIPRING_DNS_FAILED) {
        fprintf(stderr, "resolv_check: a cut header parsed\n");
        return 1;
    }
    unsigned char answer[512];
    int length = 0;
    int r = tipring_dns_query("a.test", TIPRING_DNS_TYPE_A, "127.0.0.1", 9, 1, 1, answer, (int)sizeof answer, &length);
    if (r != TIPRING_DNS_FAILED) {
        fprintf(stderr, "resolv_check: a silent server gave %d\n", r);
        return 1;
    }
    printf("resolv_check: musl build parses answers and bounds a silent server\n");
    return 0;
}
