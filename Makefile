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

# The module under mod_cgi's names, for test suites written for mod_cgi
# (see modules/pycgi_common.h): build-as-cgi/mod_cgi.so.
as-mod-cgi:
	rm -rf build-as-cgi && mkdir -p build-as-cgi
	tar cf - --exclude=./build-as-cgi --exclude=./.git . | tar xf - -C build-as-cgi
	$(MAKE) -C build-as-cgi clean
	$(MAKE) -C build-as-cgi -f Makefile.apxs EXTRA_CFLAGS=-DPYCGI_AS_MOD_CGI
	cp build-as-cgi/.libs/mod_pycgi.so build-as-cgi/mod_cgi.so

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

# The suite against an AddressSanitizer build of the module, made in a
# copy of the tree (build-asan/src) so that .libs/mod_pycgi.so is left
# alone.  Reports go to sanitizer.<pid> in each server's log directory
# (tests/httpd.py adds log_path) and fail the test that was running.
# allow_user_segv_handler=0: httpd's own SIGSEGV handler would hide the
# report; fast_unwind_on_malloc=0: APR and libpython have no frame
# pointers, and tests/asan.supp needs whole allocation stacks;
# PYTHONMALLOC=malloc: see tests/asan.supp; use_sigaltstack=0: Python's
# faulthandler (enabled in every child) keeps its own alternate signal
# stack, and ASan's thread-exit code trips over it; handle_segv=0: the
# crash tests segfault on purpose, and the child must die of it as in
# production (faulthandler's dump, httpd's AH00052), not of ASan's exit.
ASAN_SO = $(CURDIR)/build-asan/src/.libs/mod_pycgi.so
ASAN_TESTS ?= tests
ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:halt_on_error=1:allow_user_segv_handler=0:fast_unwind_on_malloc=0:use_sigaltstack=0:handle_segv=0
LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/asan.supp:print_suppressions=0
check-asan: deps
	rm -rf build-asan/src
	mkdir -p build-asan/src
	tar -cf - --exclude=./.git --exclude='./build-*' --exclude=.libs \
	    --exclude='*.lo' --exclude='*.slo' --exclude='*.la' --exclude='*.o' . \
	    | tar -xf - -C build-asan/src
	$(MAKE) -C build-asan/src all SANITIZE=address
	PYCGI_MODULE=$(ASAN_SO) PYCGI_PRELOAD=$$(gcc -print-file-name=libasan.so) \
	ASAN_OPTIONS=$(ASAN_OPTIONS) LSAN_OPTIONS=$(LSAN_OPTIONS) PYTHONMALLOC=malloc \
	    $(PYTHON) -m pytest -ra --ignore=tests/test_package.py $(ASAN_TESTS)

test: all
	$(PYTHON) -m pytest -ra tests

bench: all
	$(PYTHON) bench/bench.py

# 40 clients at once on a script that sleeps 1 s, under event: stock
# mod_cgid against the daemon and embedded runners (bench/README.md).
bench-sleep: all
	$(PYTHON) bench/bench.py --sleep40

# Mixed-traffic load test (tests/load.py) of every runner x MPM,
# LOAD_DURATION seconds each.
LOAD_DURATION ?= 60
load: all
	$(PYTHON) tests/load.py --mode exec,daemon,embedded --mpm prefork,event \
	    --duration $(LOAD_DURATION)

# Memory growth of the embedded runner (tools/soak.py): one child per MPM,
# 100,000 requests of the examples; fails at 5 MB of VmRSS growth.
soak: all
	$(PYTHON) tools/soak.py

.PHONY: load soak bench-sleep

clean:
	rm -rf .libs modules/.libs build-fuzz build-asan *.la *.lo *.slo *.o modules/*.lo modules/*.slo modules/*.o modules/*.la worker/pycgi_worker_py.h

.PHONY: all install deps demo check check-asan test bench fuzz clean
