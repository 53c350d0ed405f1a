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
	$(PYTHON) -m pytest -ra tests

test: all
	$(PYTHON) -m pytest -ra tests

bench: all
	$(PYTHON) bench/bench.py

clean:
	rm -rf .libs modules/.libs *.la *.lo *.slo *.o modules/*.lo modules/*.slo modules/*.o modules/*.la

.PHONY: all install deps demo check test bench clean
