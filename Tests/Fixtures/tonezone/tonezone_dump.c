/* Test-only: prints DAHDI's built-in tone zones (libtonezone) one field per line, so the
 * Swift tests can compare TipRing's tone plans with them. The structure is declared here
 * (DAHDI_MAX_CADENCE and DAHDI_TONE_MAX are 16 in DAHDI's user.h) because Debian's
 * libtonezone-dev header needs a kernel-driver header that only the DKMS package ships. */
#include <ctype.h>
#include <stdio.h>

#define TZ_MAX_CADENCE 16
#define TZ_TONE_MAX 16

struct tz_sound { int toneid; char data[256]; };
struct tz_zone {
    int zone;
    char country[10];
    char description[40];
    int ringcadence[TZ_MAX_CADENCE];
    struct tz_sound tones[TZ_TONE_MAX];
    int dtmf_high_level;
    int dtmf_low_level;
    int mfr1_level;
    int mfr2_level;
};

extern struct tz_zone builtin_zones[];
extern char *tone_zone_tone_name(int id);

int main(void) {
    for (int i = 0; builtin_zones[i].zone > -1 && i < 200; i++) {
        struct tz_zone *z = &builtin_zones[i];
        for (const char *c = z->country; *c; c++) {
            if (!isalpha((unsigned char) *c) && *c != '-') { fprintf(stderr, "layout mismatch\n"); return 1; }
        }
        printf("zone\t%s\n", z->country);
        printf("ring\t%s", z->country);
        for (int j = 0; j < TZ_MAX_CADENCE && z->ringcadence[j]; j++) printf("%s%d", j ? "," : "\t", z->ringcadence[j]);
        printf("\n");
        printf("dtmf\t%s\t%d,%d\n", z->country, z->dtmf_low_level, z->dtmf_high_level);
        for (int t = 0; t < TZ_TONE_MAX; t++) {
            if (z->tones[t].data[0]) printf("tone\t%s\t%s\t%s\n", z->country, tone_zone_tone_name(z->tones[t].toneid), z->tones[t].data);
        }
    }
    return 0;
}
