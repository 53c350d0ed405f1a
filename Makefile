# mod_pycgi -- top-level targets.  See README.md.

PYTHON ?= /usr/bin/python3
SANITIZE ?=

ifeq ($(SANITIZE),address)
SAN_FLAGS = EXTRA_CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" \
            EXTRA_LDFLAGS="-fsanitize=address"
endif

all:
	$(MAKE) -f Makefile.apxs $(SAN_FLAGS)

install: all
	$(MAKE) -f Makefile.apxs install

deps:
	sh tools/deps.sh

# The README's two commands.
demo: deps
	sh tools/demo.sh

check: deps
	$(MAKE) all
	$(MAKE) fuzz FUZZ_SECONDS=20
	$(PYTHON) -m pytest -ra tests

# libFuzzer run over our own parsers (fuzz/); FUZZ_SECONDS long.
FUZZ_SECONDS ?= 20
fuzz:
	mkdir -p build-fuzz fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -o build-fuzz/fuzz_parse \
	    fuzz/fuzz_parse.c modules/pycgi_parse.c
	cp -r fuzz/corpus build-fuzz/corpus-run
	build-fuzz/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    build-fuzz/corpus-run fuzz/corpus

test: all
	$(PYTHON) -m pytest -ra tests

bench: all
	$(PYTHON) bench/bench.py

# Mixed-traffic load test (tests/load.py) of every runner x MPM,
# LOAD_DURATION seconds each.
LOAD_DURATION ?= 60
load: all
	$(PYTHON) tests/load.py --mode exec,embedded --mpm prefork,event \
	    --duration $(LOAD_DURATION)

.PHONY: load

clean:
	rm -rf .libs modules/.libs build-fuzz *.la *.lo *.slo *.o modules/*.lo modules/*.slo modules/*.o modules/*.la

.PHONY: all install deps demo check test bench fuzz clean
