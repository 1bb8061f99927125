#include "tipring_gpio.h"
#include <gpiod.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((unused)) static uint64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tipring_gpio_to_monotonic(uint64_t ns, uint64_t realtime_now, uint64_t monotonic_now) {
    uint64_t to_real = ns > realtime_now ? ns - realtime_now : realtime_now - ns;
    uint64_t to_mono = ns > monotonic_now ? ns - monotonic_now : monotonic_now - ns;
    if (to_real < to_mono) {
        uint64_t offset = realtime_now - monotonic_now;
        return ns > offset ? ns - offset : 0;
    }
    return ns;
}

static void copy(char *dst, size_t size, const char *src) {
    if (size == 0) return;
    snprintf(dst, size, "%s", src ? src : "");
}

struct tipring_gpio_chip { struct gpiod_chip *chip; };

#ifdef GPIOD_LINE_BULK_MAX_LINES
/* ---------------------------------------------------------------- libgpiod v1 */

struct tipring_gpio_request { struct gpiod_line *line; };

const char *tipring_gpio_api(void) {
    static char text[64];
    snprintf(text, sizeof text, "v1 %s", gpiod_version_string());
    return text;
}

/* A chip by path, by name (gpiochipN) or by label. */
static struct gpiod_chip *open_chip(const char *which) {
    if (which[0] == '/') return gpiod_chip_open(which);
    if (strncmp(which, "gpiochip", 8) == 0) return gpiod_chip_open_by_name(which);
    return gpiod_chip_open_by_label(which);
}

void tipring_gpio_chip_info(tipring_gpio_chip *chip, char *name, size_t name_size, char *label, size_t label_size, unsigned *lines) {
    copy(name, name_size, gpiod_chip_name(chip->chip));
    copy(label, label_size, gpiod_chip_label(chip->chip));
    *lines = gpiod_chip_num_lines(chip->chip);
}

int tipring_gpio_line_info(tipring_gpio_chip *chip, unsigned offset, char *name, size_t name_size,
                           char *consumer, size_t consumer_size, int *used, int *output) {
    struct gpiod_line *l = gpiod_chip_get_line(chip->chip, offset);
    if (!l) return -errno;
    copy(name, name_size, gpiod_line_name(l));
    copy(consumer, consumer_size, gpiod_line_consumer(l));
    *used = gpiod_line_is_used(l);
    *output = gpiod_line_direction(l) == GPIOD_LINE_DIRECTION_OUTPUT;
    return 0;
}

static int bias_flags(int bias) {
    switch (bias) {
    case TIPRING_GPIO_BIAS_DISABLED: return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
    case TIPRING_GPIO_BIAS_PULL_UP: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case TIPRING_GPIO_BIAS_PULL_DOWN: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    default: return 0;
    }
}

tipring_gpio_request *tipring_gpio_request_output(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                  int open_drain, int bias, int initial, int *err) {
    struct gpiod_line *l = gpiod_chip_get_line(chip->chip, offset);
    if (!l) { *err = errno; return NULL; }
    int flags = (open_drain ? GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN : 0) | bias_flags(bias);
    if (gpiod_line_request_output_flags(l, consumer, flags, initial) != 0) { *err = errno; return NULL; }
    tipring_gpio_request *r = calloc(1, sizeof *r);
    r->line = l;
    return r;
}

tipring_gpio_request *tipring_gpio_request_input(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                 int active_low, int bias, int *err) {
    struct gpiod_line *l = gpiod_chip_get_line(chip->chip, offset);
    if (!l) { *err = errno; return NULL; }
    int flags = (active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0) | bias_flags(bias);
    if (gpiod_line_request_both_edges_events_flags(l, consumer, flags) != 0) { *err = errno; return NULL; }
    tipring_gpio_request *r = calloc(1, sizeof *r);
    r->line = l;
    return r;
}

int tipring_gpio_set(tipring_gpio_request *req, int value) { return gpiod_line_set_value(req->line, value) == 0 ? 0 : -errno; }
int tipring_gpio_get(tipring_gpio_request *req) { int v = gpiod_line_get_value(req->line); return v < 0 ? -errno : v; }
int tipring_gpio_event_fd(tipring_gpio_request *req) { return gpiod_line_event_get_fd(req->line); }

int tipring_gpio_read_event(tipring_gpio_request *req, int *rising, uint64_t *ns, uint64_t *seqno) {
    struct gpiod_line_event ev;
    if (gpiod_line_event_read(req->line, &ev) != 0) return -errno;
    *rising = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    *seqno = 0; /* the v1 interface numbers no events: a lost one shows as two edges the same way */
    uint64_t t = (uint64_t)ev.ts.tv_sec * 1000000000ull + (uint64_t)ev.ts.tv_nsec;
    *ns = tipring_gpio_to_monotonic(t, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC));
    return 1;
}

void tipring_gpio_release(tipring_gpio_request *req) {
    if (!req) return;
    gpiod_line_release(req->line);
    free(req);
}

#else
/* ---------------------------------------------------------------- libgpiod v2 */

struct tipring_gpio_request { struct gpiod_line_request *req; unsigned offset; struct gpiod_edge_event_buffer *events; };

const char *tipring_gpio_api(void) {
    static char text[64];
    snprintf(text, sizeof text, "v2 %s", gpiod_api_version());
    return text;
}

static struct gpiod_chip *open_label(const char *label) {
    DIR *d = opendir("/dev");
    if (!d) return NULL;
    struct dirent *e;
    struct gpiod_chip *found = NULL;
    while (!found && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "gpiochip", 8) != 0) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        struct gpiod_chip *c = gpiod_chip_open(path);
        if (!c) continue;
        struct gpiod_chip_info *info = gpiod_chip_get_info(c);
        if (info && strcmp(gpiod_chip_info_get_label(info), label) == 0) found = c; else gpiod_chip_close(c);
        if (info) gpiod_chip_info_free(info);
    }
    closedir(d);
    if (!found) errno = ENOENT;
    return found;
}

/* A chip by path, by name (gpiochipN) or by label (v2 opens paths only). */
static struct gpiod_chip *open_chip(const char *which) {
    if (which[0] == '/') return gpiod_chip_open(which);
    if (strncmp(which, "gpiochip", 8) == 0) {
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", which);
        return gpiod_chip_open(path);
    }
    return open_label(which);
}

void tipring_gpio_chip_info(tipring_gpio_chip *chip, char *name, size_t name_size, char *label, size_t label_size, unsigned *lines) {
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip->chip);
    copy(name, name_size, info ? gpiod_chip_info_get_name(info) : "");
    copy(label, label_size, info ? gpiod_chip_info_get_label(info) : "");
    *lines = info ? (unsigned)gpiod_chip_info_get_num_lines(info) : 0;
    if (info) gpiod_chip_info_free(info);
}

int tipring_gpio_line_info(tipring_gpio_chip *chip, unsigned offset, char *name, size_t name_size,
                           char *consumer, size_t consumer_size, int *used, int *output) {
    struct gpiod_line_info *li = gpiod_chip_get_line_info(chip->chip, offset);
    if (!li) return -errno;
    copy(name, name_size, gpiod_line_info_get_name(li));
    copy(consumer, consumer_size, gpiod_line_info_get_consumer(li));
    *used = gpiod_line_info_is_used(li);
    *output = gpiod_line_info_get_direction(li) == GPIOD_LINE_DIRECTION_OUTPUT;
    gpiod_line_info_free(li);
    return 0;
}

static tipring_gpio_request *request(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                     struct gpiod_line_settings *s, int *err) {
    struct gpiod_line_config *lc = gpiod_line_config_new();
    struct gpiod_request_config *rc = gpiod_request_config_new();
    tipring_gpio_request *r = NULL;
    if (lc && rc && gpiod_line_config_add_line_settings(lc, &offset, 1, s) == 0) {
        gpiod_request_config_set_consumer(rc, consumer);
        struct gpiod_line_request *req = gpiod_chip_request_lines(chip->chip, rc, lc);
        if (req) {
            r = calloc(1, sizeof *r);
            r->req = req;
            r->offset = offset;
        }
    }
    if (!r) *err = errno ? errno : EINVAL;
    if (lc) gpiod_line_config_free(lc);
    if (rc) gpiod_request_config_free(rc);
    gpiod_line_settings_free(s);
    return r;
}

static void set_bias(struct gpiod_line_settings *s, int bias) {
    switch (bias) {
    case TIPRING_GPIO_BIAS_DISABLED: gpiod_line_settings_set_bias(s, GPIOD_LINE_BIAS_DISABLED); break;
    case TIPRING_GPIO_BIAS_PULL_UP: gpiod_line_settings_set_bias(s, GPIOD_LINE_BIAS_PULL_UP); break;
    case TIPRING_GPIO_BIAS_PULL_DOWN: gpiod_line_settings_set_bias(s, GPIOD_LINE_BIAS_PULL_DOWN); break;
    default: break;
    }
}

tipring_gpio_request *tipring_gpio_request_output(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                  int open_drain, int bias, int initial, int *err) {
    struct gpiod_line_settings *s = gpiod_line_settings_new();
    if (!s) { *err = ENOMEM; return NULL; }
    gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_OUTPUT);
    set_bias(s, bias);
    gpiod_line_settings_set_drive(s, open_drain ? GPIOD_LINE_DRIVE_OPEN_DRAIN : GPIOD_LINE_DRIVE_PUSH_PULL);
    gpiod_line_settings_set_output_value(s, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    return request(chip, offset, consumer, s, err);
}

tipring_gpio_request *tipring_gpio_request_input(tipring_gpio_chip *chip, unsigned offset, const char *consumer,
                                                 int active_low, int bias, int *err) {
    struct gpiod_line_settings *s = gpiod_line_settings_new();
    if (!s) { *err = ENOMEM; return NULL; }
    gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_INPUT);
    set_bias(s, bias);
    gpiod_line_settings_set_active_low(s, active_low != 0);
    gpiod_line_settings_set_edge_detection(s, GPIOD_LINE_EDGE_BOTH);
    gpiod_line_settings_set_event_clock(s, GPIOD_LINE_CLOCK_MONOTONIC);
    tipring_gpio_request *r = request(chip, offset, consumer, s, err);
    if (r) r->events = gpiod_edge_event_buffer_new(1);
    return r;
}

int tipring_gpio_set(tipring_gpio_request *req, int value) {
    return gpiod_line_request_set_value(req->req, req->offset, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) == 0 ? 0 : -errno;
}

int tipring_gpio_get(tipring_gpio_request *req) {
    enum gpiod_line_value v = gpiod_line_request_get_value(req->req, req->offset);
    return v == GPIOD_LINE_VALUE_ERROR ? -errno : v == GPIOD_LINE_VALUE_ACTIVE;
}

int tipring_gpio_event_fd(tipring_gpio_request *req) { return gpiod_line_request_get_fd(req->req); }

int tipring_gpio_read_event(tipring_gpio_request *req, int *rising, uint64_t *ns, uint64_t *seqno) {
    if (!req->events) return -EINVAL;
    int n = gpiod_line_request_read_edge_events(req->req, req->events, 1);
    if (n < 0) return -errno;
    if (n == 0) return 0;
    struct gpiod_edge_event *ev = gpiod_edge_event_buffer_get_event(req->events, 0);
    *rising = gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE;
    *ns = gpiod_edge_event_get_timestamp_ns(ev);
    /* The line's own count of events: a gap is events the kernel's buffer dropped. */
    *seqno = gpiod_edge_event_get_line_seqno(ev);
    return 1;
}

void tipring_gpio_release(tipring_gpio_request *req) {
    if (!req) return;
    gpiod_line_request_release(req->req);
    if (req->events) gpiod_edge_event_buffer_free(req->events);
    free(req);
}
#endif

/* The same for both APIs. */

tipring_gpio_chip *tipring_gpio_open(const char *which, int *err) {
    errno = 0;
    struct gpiod_chip *c = open_chip(which);
    if (!c) { *err = errno ? errno : ENOENT; return NULL; }
    tipring_gpio_chip *t = calloc(1, sizeof *t);
    t->chip = c;
    return t;
}

void tipring_gpio_close(tipring_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}
