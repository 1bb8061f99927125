/* Test-only bridge to spandsp, the reference DSP library: generates and decodes DTMF
 * (and caller ID) as raw 16-bit little-endian 8 kHz audio on stdin/stdout, so the Swift
 * tests can check TipRing's DSP against it. Built by the tests with the system compiler. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

static void dtmf_digits(void *user_data, const char *digits, int len) {
    (void) user_data;
    fwrite(digits, 1, (size_t) len, stdout);
}

static int dtmf_gen(int argc, char **argv) {
    const char *digits = argv[2];
    int level = argc > 3 ? atoi(argv[3]) : -10;
    int twist = argc > 4 ? atoi(argv[4]) : 0;
    int on = argc > 5 ? atoi(argv[5]) : 50;
    int off = argc > 6 ? atoi(argv[6]) : 50;
    dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
    dtmf_tx_set_level(tx, level, twist);
    dtmf_tx_set_timing(tx, on, off);
    int16_t buf[160];
    /* The queue holds 128 digits; feed in chunks as it drains. */
    size_t len = strlen(digits), pos = 0;
    for (;;) {
        if (pos < len) {
            size_t chunk = len - pos > 64 ? 64 : len - pos;
            if (dtmf_tx_put(tx, digits + pos, (int) chunk) == 0) pos += chunk;
        }
        int n = dtmf_tx(tx, buf, 160);
        if (n <= 0) {
            if (pos >= len) break;
            continue;
        }
        fwrite(buf, sizeof(int16_t), (size_t) n, stdout);
    }
    return 0;
}

static int dtmf_detect(void) {
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, dtmf_digits, NULL);
    int16_t buf[160];
    size_t n;
    while ((n = fread(buf, sizeof(int16_t), 160, stdin)) > 0) dtmf_rx(rx, buf, (int) n);
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 10; i++) dtmf_rx(rx, buf, 160);
    fputc('\n', stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "dtmf-gen") == 0) return dtmf_gen(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "dtmf-detect") == 0) return dtmf_detect();
    fprintf(stderr, "usage: spandsp_tool dtmf-gen DIGITS [level twist on off] | dtmf-detect\n");
    return 64;
}
