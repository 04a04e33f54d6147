# opsbox: two commands on a fresh Debian machine.
#   make demo   installs dependencies, builds, starts opsbox with a demo tenant on SQLite
#   make test   installs dependencies, builds, runs every test (SQLite and PostgreSQL)
#   make bench  builds the release preset and writes figures to docs/benchmarks.md

PRESET ?= release
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: deps build test demo bench asan clean

deps:
	scripts/install-deps

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

asan:
	$(MAKE) test PRESET=asan-ubsan

demo: build
	scripts/demo $(BUILD)/src/app/opsbox

bench: build
	scripts/bench $(BUILD)

clean:
	rm -rf build
