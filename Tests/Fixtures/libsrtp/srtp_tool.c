/* libsrtp2 (Debian libsrtp2-dev) as the tests' independent SRTP implementation.
 *   srtp_tool protect|unprotect|protect-rtcp|unprotect-rtcp|protect-rtcp-unencrypted SUITE KEYHEX
 * (protect-rtcp-unencrypted: SRTCP authenticated only, its E flag 0 — RFC 3711 §3.4.)
 * SUITE: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (KEYHEX: 30 bytes, key and salt) or
 * AEAD_AES_128_GCM (RFC 7714; KEYHEX: 28 bytes).
 * stdin: records of a 2-byte big-endian length and a packet. stdout: per record, a status
 * byte (0: done, else libsrtp's error), a 2-byte length and the packet it made. */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex(const char *s, unsigned char *out, size_t n) {
    if (strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned int v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

static int read_exact(unsigned char *p, size_t n) { return fread(p, 1, n, stdin) == n ? 0 : -1; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: srtp_tool MODE SUITE KEYHEX\n"); return 64; }
    const char *mode = argv[1];
    int gcm = strcmp(argv[2], "AEAD_AES_128_GCM") == 0;
    unsigned char key[30];
    size_t key_length = gcm ? 28 : 30;
    if (hex(argv[3], key, key_length) != 0) { fprintf(stderr, "key: %zu hex digits\n", 2 * key_length); return 64; }
    if (srtp_init() != srtp_err_status_ok) { fprintf(stderr, "srtp_init failed\n"); return 70; }
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else if (strcmp(argv[2], "AES_CM_128_HMAC_SHA1_80") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    } else if (strcmp(argv[2], "AES_CM_128_HMAC_SHA1_32") == 0) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    } else {
        fprintf(stderr, "unknown suite %s\n", argv[2]);
        return 64;
    }
    int sending = strncmp(mode, "protect", 7) == 0;
    policy.ssrc.type = sending ? ssrc_any_outbound : ssrc_any_inbound;
    policy.key = key;
    policy.window_size = 128;
    if (strcmp(mode, "protect-rtcp-unencrypted") == 0) policy.rtcp.sec_serv = sec_serv_auth;
    srtp_t session;
    if (srtp_create(&session, &policy) != srtp_err_status_ok) { fprintf(stderr, "srtp_create failed\n"); return 70; }
    int rtcp = strstr(mode, "rtcp") != NULL;
    unsigned char len_bytes[2];
    static unsigned char packet[4096];
    while (read_exact(len_bytes, 2) == 0) {
        int len = len_bytes[0] << 8 | len_bytes[1];
        if (len > 2048 || read_exact(packet, (size_t)len) != 0) return 65;
        srtp_err_status_t status;
        if (sending) {
            status = rtcp ? srtp_protect_rtcp(session, packet, &len) : srtp_protect(session, packet, &len);
        } else {
            status = rtcp ? srtp_unprotect_rtcp(session, packet, &len) : srtp_unprotect(session, packet, &len);
        }
        if (status != srtp_err_status_ok) len = 0;
        unsigned char head[3] = { (unsigned char)status, (unsigned char)(len >> 8), (unsigned char)len };
        fwrite(head, 1, 3, stdout);
        fwrite(packet, 1, (size_t)len, stdout);
    }
    srtp_dealloc(session);
    return 0;
}
