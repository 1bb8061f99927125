#ifndef TIPRING_OPUS_H
#define TIPRING_OPUS_H
#include <stdint.h>

/* libopus for a telephone line: 8 kHz mono both ways. The encoder/decoder control calls of
   libopus are variadic macros, which Swift cannot call: these functions wrap the few used. */

/* An encoder for 8 kHz mono voice (OPUS_APPLICATION_VOIP, narrowband, signal voice) at
   `bitrate` bit/s, with in-band FEC sized for `loss_percent` expected loss when `fec`, and
   discontinuous transmission when `dtx`. NULL and *err (an OPUS_* code) on failure. */
void *tipring_opus_encoder_new(int bitrate, int fec, int loss_percent, int dtx, int complexity, int *err);
void tipring_opus_encoder_free(void *encoder);
/* Changes the expected loss the FEC is sized for (0–100). 0 or an OPUS_* code. */
int tipring_opus_encoder_set_loss(void *encoder, int loss_percent);
/* Encodes `frames` samples (80, 160, 320, 480: 10–60 ms) into at most `capacity` bytes: the
   packet's length, or a negative OPUS_* code. A length of 2 or less is a DTX frame, which is
   not sent (RFC 7587 §3.1.3). */
int tipring_opus_encode(void *encoder, const int16_t *pcm, int frames, uint8_t *packet, int capacity);

/* A decoder to 8 kHz mono. NULL and *err on failure. */
void *tipring_opus_decoder_new(int *err);
void tipring_opus_decoder_free(void *decoder);
/* Decodes a packet into at most `capacity` samples: the count, or a negative OPUS_* code.
   `packet` NULL: `capacity` samples of concealment. `fec` 1: the frame *before* `packet`,
   from the redundancy it carries (exactly `capacity` samples, which must be that frame's). */
int tipring_opus_decode(void *decoder, const uint8_t *packet, int length, int16_t *pcm, int capacity, int fec);

/* Whether the packet's first frame carries in-band FEC (SILK's LBRR flag, RFC 6716 §4.2.4):
   only then can the frame before it be rebuilt. 0 for a CELT-only or malformed packet. */
int tipring_opus_packet_has_fec(const uint8_t *packet, int length);
/* The samples at 8 kHz a packet holds, or a negative OPUS_* code for a malformed packet. */
int tipring_opus_packet_samples(const uint8_t *packet, int length);
#endif
