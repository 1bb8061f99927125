// Fax machines in software (spandsp's T.30 terminal), benchmark-only: the same machines the
// tests use (Tests/Fixtures/spandsp/fax_terminal.c), called in-process.
#ifndef TIPRING_FAX_TERMINAL_H
#define TIPRING_FAX_TERMINAL_H
#include <stddef.h>
#include <stdint.h>

typedef struct fax_terminal fax_terminal;

int fax_image_write(const char *file, int pages);
int fax_image_compare(const char *sent, const char *received, int *pages, int *differing_rows);
fax_terminal *fax_terminal_new(int sending, const char *file, const char *modem, int ecm);
void fax_terminal_exchange(fax_terminal *t, int16_t *heard, int heard_count, int16_t *out, int out_count);
int fax_terminal_done(const fax_terminal *t);
int fax_terminal_report(const fax_terminal *t, char *text, size_t size);
void fax_terminal_free(fax_terminal *t);
#endif
