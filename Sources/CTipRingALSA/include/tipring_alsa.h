#ifndef TIPRING_ALSA_H
#define TIPRING_ALSA_H
#include <stddef.h>
#include <stdint.h>

/* Periods of buffer a PCM is opened with. */
#define TIPRING_PCM_PERIODS 3

/* A PCM for one direction: S16_LE, mono, at `rate`, with `period_frames` per period and
   TIPRING_PCM_PERIODS periods of buffer (resampled by the plug layer where the device needs
   another rate); playback starts once two periods are queued, capture at the first read.
   `config` (may be NULL) is an ALSA configuration text used instead of the system's. NULL
   and *err (negative errno) on failure. */
void *tipring_pcm_open(const char *name, int capture, unsigned rate, unsigned period_frames, const char *config, int *err);
void tipring_pcm_close(void *pcm);
/* Frames moved, or a negative errno (-EPIPE: xrun, -ESTRPIPE: suspended). */
long tipring_pcm_read(void *pcm, int16_t *buffer, unsigned long frames);
long tipring_pcm_write(void *pcm, const int16_t *buffer, unsigned long frames);
/* snd_pcm_recover: 0 when streaming again. */
int tipring_pcm_recover(void *pcm, int err);
const char *tipring_pcm_error(int err);
/* snd_pcm_drop: the stream stops at once (the device's clock and interrupts with it);
   snd_pcm_prepare: ready to stream again. 0 or a negative errno. */
int tipring_pcm_drop(void *pcm);
int tipring_pcm_prepare(void *pcm);
/* The period and buffer the device granted, and the start threshold (frames); 0 or a negative errno. */
int tipring_pcm_geometry(void *pcm, unsigned long *period_frames, unsigned long *buffer_frames, unsigned long *start_threshold);
/* snd_pcm_delay: frames between what is written now and what the device plays now (playback),
   or a negative errno. */
long tipring_pcm_delay(void *pcm);
/* The PCM names ALSA knows ("default", "null", …), newline-separated into `out`. */
void tipring_pcm_names(const char *config, char *out, size_t size);
#endif
