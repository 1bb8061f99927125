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

/* power: the level of the samples on stdin, in dBm0, by spandsp's own power meter (its
 * dBm0 reference, not ours). */
static int measure_power(void) {
    power_meter_t meter;
    power_meter_init(&meter, 10);
    int16_t buf[160];
    size_t n;
    while ((n = fread(buf, sizeof(int16_t), 160, stdin)) > 0)
        for (size_t i = 0; i < n; i++) power_meter_update(&meter, buf[i]);
    printf("%.2f\n", power_meter_current_dbm0(&meter));
    return 0;
}

static int adsi_standard(const char *name) {
    if (strcmp(name, "clip-dtmf") == 0) return ADSI_STANDARD_CLIP_DTMF;
    return strcmp(name, "clip") == 0 ? ADSI_STANDARD_CLIP : ADSI_STANDARD_CLASS;
}

static int dtmf_standard;

/* adsi-gen class|clip NUMBER NAME MMDDHHMM: an on-hook MDMF caller-ID spill. */
static int adsi_gen(char **argv) {
    int standard = adsi_standard(argv[2]);
    adsi_tx_state_t *tx = adsi_tx_init(NULL, standard);
    /* 300 bits of seizure, 180 of mark (an on-hook spill), 5 of mark after, 1 stop bit. */
    adsi_tx_set_preamble(tx, 300, 180, 5, 1);
    uint8_t msg[256];
    int len = adsi_add_field(tx, msg, -1, standard == ADSI_STANDARD_CLIP ? CLIP_MDMF_CALLERID : CLASS_MDMF_CALLERID, NULL, 0);
    len = adsi_add_field(tx, msg, len, MCLASS_DATETIME, (const uint8_t *) argv[5], (int) strlen(argv[5]));
    len = adsi_add_field(tx, msg, len, MCLASS_CALLER_NUMBER, (const uint8_t *) argv[3], (int) strlen(argv[3]));
    len = adsi_add_field(tx, msg, len, MCLASS_CALLER_NAME, (const uint8_t *) argv[4], (int) strlen(argv[4]));
    adsi_tx_put_message(tx, msg, len);
    int16_t buf[160];
    int n;
    int idle = 0;
    while ((n = adsi_tx(tx, buf, 160)) > 0 || idle++ < 2) {
        if (n <= 0) { memset(buf, 0, sizeof buf); n = 160; }
        fwrite(buf, sizeof(int16_t), (size_t) n, stdout);
    }
    return 0;
}

static adsi_rx_state_t *decoder;

static void adsi_message(void *user_data, const uint8_t *msg, int len) {
    (void) user_data;
    if (len <= 0) return;  /* status reports */
    uint8_t type;
    const uint8_t *body;
    int field_len;
    int pos = 0;
    while ((pos = adsi_next_field(decoder, msg, len, pos, &type, &body, &field_len)) > 0) {
        if (body == NULL) continue;
        const char *key;
        if (dtmf_standard) {
            /* DTMF caller ID (spandsp's CLIP_DTMF): A… number, B… (C-terminated) or D… absence. */
            key = type == CLIP_DTMF_C_CALLER_NUMBER ? "number" : type == CLIP_DTMF_C_ABSENCE || type == CLIP_DTMF_HASH_ABSENCE ? "number-absence" : "other";
        } else {
            key = type == MCLASS_DATETIME ? "datetime" : type == MCLASS_CALLER_NUMBER ? "number"
                : type == MCLASS_CALLER_NAME ? "name" : type == MCLASS_ABSENCE1 ? "number-absence"
                : type == MCLASS_ABSENCE2 ? "name-absence" : "other";
        }
        printf("%s=%.*s\n", key, field_len, (const char *) body);
    }
}

static int adsi_decode(char **argv) {
    dtmf_standard = adsi_standard(argv[2]) == ADSI_STANDARD_CLIP_DTMF;
    decoder = adsi_rx_init(NULL, adsi_standard(argv[2]), adsi_message, NULL);
    int16_t buf[160];
    size_t n;
    while ((n = fread(buf, sizeof(int16_t), 160, stdin)) > 0) adsi_rx(decoder, buf, (int) n);
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 10; i++) adsi_rx(decoder, buf, 160);
    return 0;
}

/* alert: spandsp's supervisory tone receiver told of one tone, the ETSI dual-tone alerting
 * signal (2130 + 2750 Hz, 80-128 ms at its 16 ms resolution). Prints each segment it sees
 * ("segment F1 F2 MS", 0 for no frequency) and each detection ("alert"). */
static const int alert_hz[2] = { 2130, 2750 };

static void alert_segment(void *data, int f1, int f2, int duration) {
    (void) data;
    printf("segment %d %d %d\n", f1 >= 0 && f1 < 2 ? alert_hz[f1] : 0, f2 >= 0 && f2 < 2 ? alert_hz[f2] : 0, duration);
}

static void alert_report(void *data, int code, int level, int delay) {
    (void) data; (void) level; (void) delay;
    if (code >= 0) printf("alert\n");
}

static int alert_detect(void) {
    super_tone_rx_descriptor_t *desc = super_tone_rx_make_descriptor(NULL);
    int tone = super_tone_rx_add_tone(desc);
    super_tone_rx_add_element(desc, tone, alert_hz[0], alert_hz[1], 80, 128);
    super_tone_rx_state_t *rx = super_tone_rx_init(NULL, desc, alert_report, NULL);
    super_tone_rx_segment_callback(rx, alert_segment);
    int16_t buf[160];
    size_t n;
    while ((n = fread(buf, sizeof(int16_t), 160, stdin)) > 0) super_tone_rx(rx, buf, (int) n);
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 20; i++) super_tone_rx(rx, buf, 160);
    return 0;
}

/* connect-tone TYPE MS: spandsp's modem connect tone generator (cng, ans, ans-pr, ansam,
 * ansam-pr), MS milliseconds of it. */
static int connect_tone(char **argv) {
    const char *name = argv[2];
    int type = strcmp(name, "cng") == 0 ? MODEM_CONNECT_TONES_FAX_CNG
             : strcmp(name, "ans") == 0 ? MODEM_CONNECT_TONES_ANS
             : strcmp(name, "ans-pr") == 0 ? MODEM_CONNECT_TONES_ANS_PR
             : strcmp(name, "ansam") == 0 ? MODEM_CONNECT_TONES_ANSAM
             : strcmp(name, "ansam-pr") == 0 ? MODEM_CONNECT_TONES_ANSAM_PR : -1;
    if (type < 0) return 64;
    modem_connect_tones_tx_state_t *tx = modem_connect_tones_tx_init(NULL, type);
    int left = atoi(argv[3]) * 8;
    int16_t buf[160];
    while (left > 0) {
        int n = modem_connect_tones_tx(tx, buf, left < 160 ? left : 160);
        if (n <= 0) break;
        fwrite(buf, sizeof(int16_t), (size_t) n, stdout);
        left -= n;
    }
    return 0;
}

/* v21-flags MS: MS milliseconds of HDLC flags on V.21 channel 2 at -13 dBm0, as a fax
 * machine sends before its first T.30 frame (spandsp's HDLC framer and FSK modem). */
static int v21_flags(char **argv) {
    int ms = atoi(argv[2]);
    hdlc_tx_state_t *hdlc = hdlc_tx_init(NULL, 0, 1, 0, NULL, NULL);
    hdlc_tx_flags(hdlc, ms * 300 / 1000 / 8 + 1);
    fsk_tx_state_t *tx = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], (get_bit_func_t) hdlc_tx_get_bit, hdlc);
    fsk_tx_power(tx, -13.0f);
    int left = ms * 8;
    int16_t buf[160];
    while (left > 0) {
        int n = fsk_tx(tx, buf, left < 160 ? left : 160);
        if (n <= 0) break;
        fwrite(buf, sizeof(int16_t), (size_t) n, stdout);
        left -= n;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && strcmp(argv[1], "adsi-gen") == 0) return adsi_gen(argv);
    if (argc >= 3 && strcmp(argv[1], "adsi-decode") == 0) return adsi_decode(argv);
    if (argc >= 3 && strcmp(argv[1], "dtmf-gen") == 0) return dtmf_gen(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "dtmf-detect") == 0) return dtmf_detect();
    if (argc >= 2 && strcmp(argv[1], "power") == 0) return measure_power();
    if (argc >= 2 && strcmp(argv[1], "alert") == 0) return alert_detect();
    if (argc >= 4 && strcmp(argv[1], "connect-tone") == 0) return connect_tone(argv);
    if (argc >= 3 && strcmp(argv[1], "v21-flags") == 0) return v21_flags(argv);
    fprintf(stderr, "usage: spandsp_tool dtmf-gen DIGITS [level twist on off] | dtmf-detect | adsi-gen class|clip NUMBER NAME MMDDHHMM | adsi-decode class|clip | alert | connect-tone cng|ans|ans-pr|ansam|ansam-pr MS | v21-flags MS\n");
    return 64;
}
