# The two commands of the README. Both install what they need (Debian packages) first.
.PHONY: demo test build clean fuzz test-sanitize

demo:
	scripts/demo

test:
	scripts/test

# Each fuzz target for FUZZ_SECONDS (default 600) with libFuzzer and AddressSanitizer;
# FUZZ_RUNS=N stops each after N executions instead (FUZZ_SECONDS then only bounds it).
fuzz:
	scripts/deps.sh build
	FUZZ_RUNS=$(FUZZ_RUNS) scripts/fuzz.sh run $(or $(FUZZ_SECONDS),$(if $(FUZZ_RUNS),86400,600))

# The test suite under ThreadSanitizer, then under AddressSanitizer.
test-sanitize:
	scripts/test-sanitize

build:
	scripts/deps.sh build
	swift build

clean:
	rm -rf .build .build-static .build-fuzz .build-tsan .build-asan
