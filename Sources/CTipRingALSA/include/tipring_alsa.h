#ifndef TIPRING_ALSA_H
#define TIPRING_ALSA_H
#include <stddef.h>
#include <stdint.h>

/* A PCM for one direction: S16_LE, mono, at `rate`, with `period_frames` per period
   (resampled by the plug layer where the device needs another rate). `config` (may be NULL)
   is an ALSA configuration text used instead of the system's. NULL and *err (negative
   errno) on failure. */
void *tipring_pcm_open(const char *name, int capture, unsigned rate, unsigned period_frames, const char *config, int *err);
void tipring_pcm_close(void *pcm);
/* Frames moved, or a negative errno (-EPIPE: xrun, -ESTRPIPE: suspended). */
long tipring_pcm_read(void *pcm, int16_t *buffer, unsigned long frames);
long tipring_pcm_write(void *pcm, const int16_t *buffer, unsigned long frames);
/* snd_pcm_recover: 0 when streaming again. */
int tipring_pcm_recover(void *pcm, int err);
const char *tipring_pcm_error(int err);
/* The PCM names ALSA knows ("default", "null", …), newline-separated into `out`. */
void tipring_pcm_names(const char *config, char *out, size_t size);
#endif
