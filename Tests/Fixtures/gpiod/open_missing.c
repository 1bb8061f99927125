/* Built against libgpiod v2 (from PyPI's gpiod sdist) with TipRing's GPIO shim: opening a
   chip that does not exist must fail with ENOENT, by path, by name and by label. */
#include "tipring_gpio.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    const char *api = tipring_gpio_api();
    printf("api %s\n", api);
    if (strncmp(api, "v2 ", 3) != 0) { printf("FAIL: built against %s, not v2\n", api); return 1; }
    const char *names[] = { "/dev/gpiochip99", "gpiochip99", "no-such-label" };
    for (int i = 0; i < 3; i++) {
        int err = 0;
        tipring_gpio_chip *c = tipring_gpio_open(names[i], &err);
        if (c) { printf("FAIL: %s opened\n", names[i]); tipring_gpio_close(c); return 1; }
        printf("%s: %s\n", names[i], strerror(err));
        if (err != ENOENT) { printf("FAIL: errno %d, expected ENOENT\n", err); return 1; }
    }
    /* The event clock conversion: a realtime stamp comes back on the monotonic clock. */
    unsigned long long mono = 5000000000ull, real = 1700000000000000000ull;
    if (tipring_gpio_to_monotonic(real - 1000, real, mono) != mono - 1000) { printf("FAIL: realtime stamp\n"); return 1; }
    if (tipring_gpio_to_monotonic(mono - 7, real, mono) != mono - 7) { printf("FAIL: monotonic stamp\n"); return 1; }
    printf("ok\n");
    return 0;
}
