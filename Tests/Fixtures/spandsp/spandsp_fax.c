/* Test-only fax machines on the command line (built by the tests with the system compiler):
 *
 *   spandsp_fax image FILE PAGES       writes the PAGES-page test document
 *   spandsp_fax compare SENT RECEIVED  prints "pages N differing_rows M"
 *   spandsp_fax send|receive FILE MODEM ECM RESULT
 *                                      one fax machine in lockstep with the line: each exchange
 *                                      on stdin is a header of two uint32 (samples heard,
 *                                      samples wanted) and the heard samples; the machine
 *                                      answers with the wanted samples on stdout. MODEM: v17 |
 *                                      v29 | v27ter; ECM: 0 | 1. When the call is over (T.30
 *                                      phase E) spandsp's figures go to RESULT as key=value
 *                                      lines.
 *
 * Numbers and samples in the machine's byte order (the tests run on the same host). */
#include "fax_terminal.c"

static int run(int sending, const char *file, const char *modem, int ecm, const char *result) {
    fax_terminal *t = fax_terminal_new(sending, file, modem, ecm);
    if (!t) return 2;
    int16_t heard[8000], out[8000];
    uint32_t header[2];
    int reported = 0;
    while (fread(header, sizeof header, 1, stdin) == 1) {
        if (header[0] > 8000 || header[1] > 8000) return 3;
        if (fread(heard, sizeof(int16_t), header[0], stdin) != header[0]) break;
        fax_terminal_exchange(t, heard, (int) header[0], out, (int) header[1]);
        if (fwrite(out, sizeof(int16_t), header[1], stdout) != header[1]) break;
        fflush(stdout);
        if (!reported && fax_terminal_done(t)) {
            char text[1024];
            fax_terminal_report(t, text, sizeof text);
            /* Written whole under a temporary name, then renamed: a reader never sees half. */
            char partial[4096];
            snprintf(partial, sizeof partial, "%s.partial", result);
            FILE *f = fopen(partial, "w");
            if (f) {
                fputs(text, f);
                fclose(f);
                rename(partial, result);
            }
            reported = 1;
        }
    }
    fax_terminal_free(t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "image") == 0) return fax_image_write(argv[2], atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "compare") == 0) {
        int pages = 0, differing = 0;
        int r = fax_image_compare(argv[2], argv[3], &pages, &differing);
        printf("pages %d differing_rows %d\n", pages, differing);
        return r;
    }
    if (argc == 6 && (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "receive") == 0))
        return run(strcmp(argv[1], "send") == 0, argv[2], argv[3], atoi(argv[4]), argv[5]);
    fprintf(stderr, "usage: see the comment at the top of spandsp_fax.c\n");
    return 64;
}
