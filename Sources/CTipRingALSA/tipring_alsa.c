#include "tipring_alsa.h"
#include <alsa/asoundlib.h>
#include <string.h>

static snd_config_t *load(const char *text, int *err) {
    snd_config_t *top = NULL;
    snd_input_t *in = NULL;
    if ((*err = snd_config_top(&top)) < 0) return NULL;
    if ((*err = snd_input_buffer_open(&in, text, (ssize_t)strlen(text))) < 0) { snd_config_delete(top); return NULL; }
    *err = snd_config_load(top, in);
    snd_input_close(in);
    if (*err < 0) { snd_config_delete(top); return NULL; }
    return top;
}

/* alsa-lib prints its own errors to stderr; ours name the device and what exists. */
static void quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

void *tipring_pcm_open(const char *name, int capture, unsigned rate, unsigned period_frames, const char *config, int *err) {
    snd_pcm_t *pcm = NULL;
    snd_lib_error_set_handler(quiet);
    snd_pcm_stream_t stream = capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK;
    if (config) {
        snd_config_t *top = load(config, err);
        if (!top) return NULL;
        *err = snd_pcm_open_lconf(&pcm, name, stream, 0, top);
        snd_config_delete(top);
    } else {
        *err = snd_pcm_open(&pcm, name, stream, 0);
    }
    if (*err < 0) return NULL;
    unsigned latency = period_frames * 4u * 1000000u / rate;   /* four periods of buffer */
    *err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, rate, 1, latency);
    if (*err < 0) { snd_pcm_close(pcm); return NULL; }
    return pcm;
}

void tipring_pcm_close(void *pcm) { if (pcm) snd_pcm_close((snd_pcm_t *)pcm); }
long tipring_pcm_read(void *pcm, int16_t *buffer, unsigned long frames) { return snd_pcm_readi((snd_pcm_t *)pcm, buffer, frames); }
long tipring_pcm_write(void *pcm, const int16_t *buffer, unsigned long frames) { return snd_pcm_writei((snd_pcm_t *)pcm, buffer, frames); }
int tipring_pcm_recover(void *pcm, int err) { return snd_pcm_recover((snd_pcm_t *)pcm, err, 1); }
const char *tipring_pcm_error(int err) { return snd_strerror(err); }

void tipring_pcm_names(const char *config, char *out, size_t size) {
    out[0] = 0;
    void **hints = NULL;
    (void)config;
    if (snd_device_name_hint(-1, "pcm", &hints) < 0) return;
    size_t used = 0;
    for (void **h = hints; *h; h++) {
        char *n = snd_device_name_get_hint(*h, "NAME");
        if (n) {
            size_t len = strlen(n);
            if (used + len + 2 < size) {
                memcpy(out + used, n, len);
                used += len;
                out[used++] = '\n';
                out[used] = 0;
            }
            free(n);
        }
    }
    snd_device_name_free_hint(hints);
}
