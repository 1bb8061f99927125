// spandsp (Debian libspandsp-dev), benchmark-only: the reference DSP TipRing is measured against.
#include <inttypes.h>
#include <spandsp.h>
