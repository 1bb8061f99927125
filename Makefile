# The two commands of the README. Both install what they need (Debian packages) first.
.PHONY: demo test build clean fuzz test-sanitize

demo:
	scripts/demo

test:
	scripts/test

# Each fuzz target for FUZZ_SECONDS (default 600) with libFuzzer and AddressSanitizer.
fuzz:
	scripts/deps.sh build
	scripts/fuzz.sh run $(or $(FUZZ_SECONDS),600)

# The test suite under ThreadSanitizer, then under AddressSanitizer.
test-sanitize:
	scripts/test-sanitize

build:
	scripts/deps.sh build
	swift build

clean:
	rm -rf .build .build-static .build-fuzz .build-tsan .build-asan
