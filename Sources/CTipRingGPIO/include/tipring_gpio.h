#ifndef TIPRING_GPIO_H
#define TIPRING_GPIO_H
#include <stddef.h>
#include <stdint.h>

/* One C face for libgpiod v1 (1.6, Debian 12) and v2 (2.x, current distributions). */

typedef struct tipring_gpio_chip tipring_gpio_chip;
typedef struct tipring_gpio_request tipring_gpio_request;

/* "v1 1.6.3" or "v2 2.2.1". */
const char *tipring_gpio_api(void);

/* Opens a chip by path (/dev/gpiochip0), name (gpiochip0) or label (pinctrl-bcm2711).
   NULL and *err = errno on failure. */
tipring_gpio_chip *tipring_gpio_open(const char *which, int *err);
void tipring_gpio_close(tipring_gpio_chip *chip);
void tipring_gpio_chip_info(tipring_gpio_chip *chip, char *name, size_t name_size, char *label, size_t label_size, unsigned *lines);

/* Line name and consumer ("" when none), in use, direction (1 = output). 0 or -errno. */
int tipring_gpio_line_info(tipring_gpio_chip *chip, unsigned offset, char *name, size_t name_size,
                           char *consumer, size_t consumer_size, int *used, int *output);

/* The pad's pull: as it is, none, up, down. */
#define TIPRING_GPIO_BIAS_AS_IS 0
#define TIPRING_GPIO_BIAS_DISABLED 1
#define TIPRING_GPIO_BIAS_PULL_UP 2
#define TIPRING_GPIO_BIAS_PULL_DOWN 3

/* An output driven to `initial` (1 high, 0 low); with open_drain, 1 releases the pin. */
tipring_gpio_request *tipring_gpio_request_output(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                  int open_drain, int bias, int initial, int *err);
/* Input with both edges reported, timestamps on the monotonic clock. */
tipring_gpio_request *tipring_gpio_request_input(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                 int active_low, int bias, int *err);
int tipring_gpio_set(tipring_gpio_request *req, int value);
int tipring_gpio_get(tipring_gpio_request *req);
/* The file descriptor to poll for edge events. */
int tipring_gpio_event_fd(tipring_gpio_request *req);
/* Reads one edge event: 1 read, 0 none, -errno. *rising 1/0; *ns monotonic nanoseconds. */
int tipring_gpio_read_event(tipring_gpio_request *req, int *rising, uint64_t *ns, uint64_t *seqno);
void tipring_gpio_release(tipring_gpio_request *req);

/* A timestamp from the kernel, on either clock, converted to the monotonic clock (kernels
   before 5.7 stamp v1 line events with the realtime clock). */
uint64_t tipring_gpio_to_monotonic(uint64_t ns, uint64_t realtime_now, uint64_t monotonic_now);

#endif
