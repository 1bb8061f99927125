/* Fax machines in software, for tests and benchmarks only: spandsp's T.30 terminal (the fax
 * engine of Asterisk, FreeSWITCH and HylaFAX) as the telephone on a port, a multi-page test
 * document for it to send, and a pixel comparison of what arrived. Included by the tests'
 * command-line bridge (spandsp_fax.c) and by the benchmarks' fax matrix. Audio: 16-bit
 * samples at 8 kHz. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <spandsp.h>

enum { FAX_IMAGE_WIDTH = 1728, FAX_IMAGE_ROWS = 1100 };

/* A page that compresses like a short typed letter: a frame, lines of "words", a
 * page-numbered stripe so no two pages are alike. */
static int fax_image_black(int page, int x, int y) {
    if (x < 16 || x >= FAX_IMAGE_WIDTH - 16 || y < 8 || y >= FAX_IMAGE_ROWS - 8) return 1;
    if (y >= 40 + page * 60 && y < 52 + page * 60) return 1;
    int cx = x % 48, cy = y % 24;
    if (y < 100 || y >= 700 || (y / 24) % 2) return 0;
    return ((x / 48 + y / 24 + page) % 3 == 0) && cx >= 4 && cx < 40 && cy >= 4 && cy < 18;
}

/* Writes a `pages`-page bilevel TIFF-F document (1728 x 1100, standard resolution, T.4 1-D).
 * Returns 0 on success. */
int fax_image_write(const char *file, int pages) {
    TIFF *t = TIFFOpen(file, "w");
    if (!t) return 2;
    uint8_t row[FAX_IMAGE_WIDTH / 8];
    for (int p = 0; p < pages; p++) {
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, FAX_IMAGE_WIDTH);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, FAX_IMAGE_ROWS);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
        TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, 0);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0f);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, 98.0f);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, FAX_IMAGE_ROWS);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
        for (int y = 0; y < FAX_IMAGE_ROWS; y++) {
            memset(row, 0, sizeof row);
            for (int x = 0; x < FAX_IMAGE_WIDTH; x++)
                if (fax_image_black(p, x, y)) row[x / 8] |= (uint8_t) (0x80 >> (x % 8));
            if (TIFFWriteScanline(t, row, (uint32_t) y, 0) < 0) {
                TIFFClose(t);
                return 3;
            }
        }
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
    return 0;
}

/* Compares two documents pixel by pixel: the pages both have, and the rows of those pages
 * that differ (a row missing from either counts). Returns 0 when both could be read. */
int fax_image_compare(const char *sent, const char *received, int *pages, int *differing_rows) {
    *pages = 0;
    *differing_rows = 0;
    TIFF *a = TIFFOpen(sent, "r");
    if (!a) return 2;
    TIFF *b = TIFFOpen(received, "r");
    if (!b) {
        TIFFClose(a);
        return 2;
    }
    uint8_t ra[FAX_IMAGE_WIDTH], rb[FAX_IMAGE_WIDTH];
    do {
        uint32_t wa = 0, wb = 0, ha = 0, hb = 0;
        TIFFGetField(a, TIFFTAG_IMAGEWIDTH, &wa);
        TIFFGetField(b, TIFFTAG_IMAGEWIDTH, &wb);
        TIFFGetField(a, TIFFTAG_IMAGELENGTH, &ha);
        TIFFGetField(b, TIFFTAG_IMAGELENGTH, &hb);
        uint32_t rows = ha < hb ? ha : hb;
        int differing = abs((int) ha - (int) hb);
        if (wa != wb || wa > 8 * FAX_IMAGE_WIDTH) differing = (int) (ha > hb ? ha : hb);
        else
            for (uint32_t y = 0; y < rows; y++)
                if (TIFFReadScanline(a, ra, y, 0) < 0 || TIFFReadScanline(b, rb, y, 0) < 0
                    || memcmp(ra, rb, (wa + 7) / 8) != 0)
                    differing++;
        (*pages)++;
        *differing_rows += differing;
    } while (TIFFReadDirectory(a) && TIFFReadDirectory(b));
    TIFFClose(a);
    TIFFClose(b);
    return 0;
}

typedef struct fax_terminal {
    fax_state_t *fax;
    /* What the receiver said of each page sent (T.30 post-page responses): confirmed,
     * confirmed but asking for retraining (too many bad rows), refused. */
    int mcf, rtp, rtn;
    int done, completion;
    t30_stats_t stats;
} fax_terminal;

static int fax_terminal_phase_d(t30_state_t *t30, void *user_data, int fcf) {
    (void) t30;
    fax_terminal *t = user_data;
    if (fcf == T30_MCF) t->mcf++;
    if (fcf == T30_RTP) t->rtp++;
    if (fcf == T30_RTN) t->rtn++;
    return T30_ERR_OK;
}

static void fax_terminal_phase_e(t30_state_t *t30, void *user_data, int completion_code) {
    fax_terminal *t = user_data;
    t30_get_transfer_statistics(t30, &t->stats);
    t->completion = completion_code;
    t->done = 1;
}

/* A fax machine that sends `file` (sending: it calls, so it starts with CNG) or receives
 * into it (it answers: CED, then DIS). `modem`: "v17", "v29" or "v27ter" — the only one it
 * offers, so the call runs at that modem's top rate unless training fails. */
fax_terminal *fax_terminal_new(int sending, const char *file, const char *modem, int ecm) {
    fax_terminal *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->fax = fax_init(NULL, sending);
    if (!t->fax) {
        free(t);
        return NULL;
    }
    fax_set_transmit_on_idle(t->fax, 1);
    t30_state_t *t30 = fax_get_t30_state(t->fax);
    t30_set_tx_ident(t30, sending ? "TipRing sender" : "TipRing receiver");
    t30_set_supported_modems(t30, strcmp(modem, "v17") == 0 ? T30_SUPPORT_V17
                                  : strcmp(modem, "v29") == 0 ? T30_SUPPORT_V29 : T30_SUPPORT_V27TER);
    t30_set_ecm_capability(t30, ecm);
    t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION);
    if (sending) t30_set_tx_file(t30, file, -1, -1);
    else t30_set_rx_file(t30, file, -1);
    t30_set_phase_d_handler(t30, fax_terminal_phase_d, t);
    t30_set_phase_e_handler(t30, fax_terminal_phase_e, t);
    return t;
}

/* One step in lockstep with the line: the machine hears `heard_count` samples, then says
 * `out_count` (silence where it has nothing to send). */
void fax_terminal_exchange(fax_terminal *t, int16_t *heard, int heard_count, int16_t *out, int out_count) {
    if (heard_count > 0) fax_rx(t->fax, heard, heard_count);
    int made = out_count > 0 ? fax_tx(t->fax, out, out_count) : 0;
    if (made < 0) made = 0;
    for (int i = made; i < out_count; i++) out[i] = 0;
}

/* Whether the call is over (T.30 phase E). */
int fax_terminal_done(const fax_terminal *t) { return t->done; }

/* The call's result as key=value lines (spandsp's own figures). */
int fax_terminal_report(const fax_terminal *t, char *text, size_t size) {
    return snprintf(text, size,
                    "completion=%d\nstatus=%s\npages_tx=%d\npages_rx=%d\nbit_rate=%d\necm=%d\nbad_rows=%d\n"
                    "longest_bad_row_run=%d\necm_retries=%d\nmcf=%d\nrtp=%d\nrtn=%d\n",
                    t->completion, t->done ? t30_completion_code_to_str(t->completion) : "not finished",
                    t->stats.pages_tx, t->stats.pages_rx, t->stats.bit_rate, t->stats.error_correcting_mode,
                    t->stats.bad_rows, t->stats.longest_bad_row_run, t->stats.error_correcting_mode_retries,
                    t->mcf, t->rtp, t->rtn);
}

void fax_terminal_free(fax_terminal *t) {
    if (!t) return;
    fax_free(t->fax);
    free(t);
}
