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

/* The parameters set one by one rather than by snd_pcm_set_params (which picks the period
   from a latency and leaves the thresholds at their defaults): the port's period exactly,
   three periods of buffer (two queued after priming, one spare against a late thread),
   playback started once those two are queued, capture started by the first read, and the
   device woken for each whole period. */
static int configure(snd_pcm_t *pcm, int capture, unsigned rate, unsigned period_frames) {
    snd_pcm_hw_params_t *hw;
    snd_pcm_sw_params_t *sw;
    int err;
    snd_pcm_hw_params_alloca(&hw);
    snd_pcm_sw_params_alloca(&sw);
    if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0) return err;
    if ((err = snd_pcm_hw_params_set_rate_resample(pcm, hw, 1)) < 0) return err;
    if ((err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) return err;
    if ((err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0) return err;
    if ((err = snd_pcm_hw_params_set_channels(pcm, hw, 1)) < 0) return err;
    if ((err = snd_pcm_hw_params_set_rate(pcm, hw, rate, 0)) < 0) return err;
    snd_pcm_uframes_t period = period_frames;
    int dir = 0;
    if ((err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir)) < 0) return err;
    unsigned periods = TIPRING_PCM_PERIODS;
    dir = 0;
    if ((err = snd_pcm_hw_params_set_periods_near(pcm, hw, &periods, &dir)) < 0) return err;
    if ((err = snd_pcm_hw_params(pcm, hw)) < 0) return err;
    snd_pcm_uframes_t buffer = 0;
    snd_pcm_hw_params_get_period_size(hw, &period, &dir);
    snd_pcm_hw_params_get_buffer_size(hw, &buffer);
    if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0) return err;
    snd_pcm_uframes_t start = capture ? 1 : (2 * period < buffer ? 2 * period : buffer);
    if ((err = snd_pcm_sw_params_set_start_threshold(pcm, sw, start)) < 0) return err;
    if ((err = snd_pcm_sw_params_set_avail_min(pcm, sw, period)) < 0) return err;
    if ((err = snd_pcm_sw_params(pcm, sw)) < 0) return err;
    return 0;
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
    if ((*err = configure(pcm, capture, rate, period_frames)) < 0) { snd_pcm_close(pcm); return NULL; }
    return pcm;
}

void tipring_pcm_close(void *pcm) { if (pcm) snd_pcm_close((snd_pcm_t *)pcm); }
long tipring_pcm_read(void *pcm, int16_t *buffer, unsigned long frames) { return snd_pcm_readi((snd_pcm_t *)pcm, buffer, frames); }
long tipring_pcm_write(void *pcm, const int16_t *buffer, unsigned long frames) { return snd_pcm_writei((snd_pcm_t *)pcm, buffer, frames); }
int tipring_pcm_recover(void *pcm, int err) { return snd_pcm_recover((snd_pcm_t *)pcm, err, 1); }
int tipring_pcm_drop(void *pcm) { return snd_pcm_drop((snd_pcm_t *)pcm); }
int tipring_pcm_prepare(void *pcm) { return snd_pcm_prepare((snd_pcm_t *)pcm); }
const char *tipring_pcm_error(int err) { return snd_strerror(err); }

int tipring_pcm_geometry(void *pcm, unsigned long *period_frames, unsigned long *buffer_frames, unsigned long *start_threshold) {
    snd_pcm_hw_params_t *hw;
    snd_pcm_sw_params_t *sw;
    snd_pcm_hw_params_alloca(&hw);
    snd_pcm_sw_params_alloca(&sw);
    int err, dir = 0;
    if ((err = snd_pcm_hw_params_current((snd_pcm_t *)pcm, hw)) < 0) return err;
    if ((err = snd_pcm_sw_params_current((snd_pcm_t *)pcm, sw)) < 0) return err;
    snd_pcm_uframes_t p = 0, b = 0, s = 0;
    snd_pcm_hw_params_get_period_size(hw, &p, &dir);
    snd_pcm_hw_params_get_buffer_size(hw, &b);
    snd_pcm_sw_params_get_start_threshold(sw, &s);
    *period_frames = p;
    *buffer_frames = b;
    *start_threshold = s;
    return 0;
}

long tipring_pcm_delay(void *pcm) {
    snd_pcm_sframes_t d = 0;
    int err = snd_pcm_delay((snd_pcm_t *)pcm, &d);
    return err < 0 ? err : (long)d;
}

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
