# The two commands of the README. Both install what they need (Debian packages) first.
.PHONY: demo test build clean

demo:
	scripts/demo

test:
	scripts/test

build:
	scripts/deps.sh build
	swift build

clean:
	rm -rf .build .build-static
