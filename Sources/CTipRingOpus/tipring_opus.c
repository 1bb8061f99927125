#include "tipring_opus.h"
#include <stddef.h>
#include <opus/opus.h>

void *tipring_opus_encoder_new(int bitrate, int fec, int loss_percent, int dtx, int complexity, int *err) {
    int e = OPUS_OK;
    OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &e);
    if (!enc) {
        *err = e;
        return NULL;
    }
    /* The line is 8 kHz: narrowband is all there is to code. */
    if ((e = opus_encoder_ctl(enc, OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_NARROWBAND))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(fec ? 1 : 0))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(loss_percent))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_DTX(dtx ? 1 : 0))) != OPUS_OK ||
        (e = opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity))) != OPUS_OK) {
        opus_encoder_destroy(enc);
        *err = e;
        return NULL;
    }
    *err = OPUS_OK;
    return enc;
}

void tipring_opus_encoder_free(void *encoder) { opus_encoder_destroy((OpusEncoder *)encoder); }

int tipring_opus_encoder_set_loss(void *encoder, int loss_percent) {
    return opus_encoder_ctl((OpusEncoder *)encoder, OPUS_SET_PACKET_LOSS_PERC(loss_percent));
}

int tipring_opus_encode(void *encoder, const int16_t *pcm, int frames, uint8_t *packet, int capacity) {
    return opus_encode((OpusEncoder *)encoder, pcm, frames, packet, capacity);
}

void *tipring_opus_decoder_new(int *err) {
    int e = OPUS_OK;
    OpusDecoder *dec = opus_decoder_create(8000, 1, &e);
    *err = e;
    return dec;
}

void tipring_opus_decoder_free(void *decoder) { opus_decoder_destroy((OpusDecoder *)decoder); }

int tipring_opus_decode(void *decoder, const uint8_t *packet, int length, int16_t *pcm, int capacity, int fec) {
    return opus_decode((OpusDecoder *)decoder, packet, packet ? length : 0, pcm, capacity, fec);
}

int tipring_opus_packet_has_fec(const uint8_t *packet, int length) {
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    unsigned char toc;
    if (!packet || length < 1) return 0;
    int count = opus_packet_parse(packet, length, &toc, frames, sizes, NULL);
    if (count < 1 || sizes[0] < 1) return 0;
    int config = toc >> 3;
    if (config >= 16) return 0; /* CELT only: no SILK layer, no LBRR */
    /* A SILK frame is 20 ms; a 40 or 60 ms Opus frame holds two or three. The range coder
       starts with each SILK frame's voice-activity flag and then the LBRR flag, all coded at
       probability 1/2, which at the start of the stream are plain bits, first bit first. */
    int size_code = config & 3; /* SILK-only and hybrid: 10, 20, 40, 60 ms */
    int silk_frames = config < 12 ? (size_code <= 1 ? 1 : size_code) : 1;
    int lbrr_bit = 7 - silk_frames;
    return (frames[0][0] >> lbrr_bit) & 1;
}

int tipring_opus_packet_samples(const uint8_t *packet, int length) {
    return opus_packet_get_nb_samples(packet, length, 8000);
}
