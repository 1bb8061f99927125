/* One copy of the fax machines for tests and benchmarks: the tests' fixture, compiled here. */
#include "fax_terminal.h"
#include "../../../Tests/Fixtures/spandsp/fax_terminal.c"
