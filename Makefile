# opsbox: two commands on a fresh Debian machine.
#   make demo   installs dependencies, builds, starts opsbox with a demo tenant on SQLite
#   make test   installs dependencies, builds, runs every test (SQLite and PostgreSQL)
#   make bench  builds the release preset and writes figures to docs/benchmarks.md

PRESET ?= release
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: deps build test demo bench asan fuzz clean

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
	scripts/install-deps --bench
	scripts/bench $(BUILD)

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS) --target json_fuzz time_fuzz config_fuzz external_event_fuzz api_key_fuzz pii_scan_fuzz intake_whatsapp_fuzz intake_email_fuzz intake_form_fuzz routing_expression_fuzz wfm_history_fuzz wfm_special_days_fuzz wfm_schedule_problem_fuzz cases_calendar_fuzz intents_fuzz collections_files_fuzz collections_portfolio_fuzz automation_fuzz
	for t in json_fuzz time_fuzz config_fuzz external_event_fuzz api_key_fuzz pii_scan_fuzz intake_whatsapp_fuzz intake_email_fuzz intake_form_fuzz routing_expression_fuzz wfm_history_fuzz wfm_special_days_fuzz wfm_schedule_problem_fuzz cases_calendar_fuzz intents_fuzz collections_files_fuzz collections_portfolio_fuzz automation_fuzz; do \
	  mkdir -p build/fuzz/corpus/$$t && \
	  build/fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus/$$t fuzz/corpus > build/fuzz/$$t.log 2>&1 || { tail -30 build/fuzz/$$t.log; exit 1; }; \
	  tail -1 build/fuzz/$$t.log; \
	done

clean:
	rm -rf build
