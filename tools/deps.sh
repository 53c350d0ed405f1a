#!/bin/sh
# Install the Debian packages mod_pycgi builds, tests and benchmarks with.
# Safe to run again; needs root (apt-get).
set -e
PKGS="apache2 apache2-dev apache2-utils libpython3-dev python3 python3-pytest
      clang libclang-rt-14-dev wrk curl gnuplot-nox libapache2-mod-wsgi-py3 libapache2-mod-python
      build-essential debhelper apache2-suexec-pristine mercurial
      git gitweb cgit fossil moosefs-cgi moosefs-master"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
    # mod_wsgi and mod_python are here for the benchmark's private
    # servers only: their packages enable them in the system Apache,
    # where they cannot even run side by side.  Leave that as it was.
    for m in $missing; do
        case $m in
            libapache2-mod-wsgi-py3) a2dismod -q -f wsgi >/dev/null 2>&1 || true ;;
            libapache2-mod-python) a2dismod -q -f python >/dev/null 2>&1 || true ;;
            # The real applications of tests/test_apps.py: served from
            # the tests' own servers, not from the system Apache.
            gitweb|cgit) a2disconf -q "$m" >/dev/null 2>&1 || true ;;
        esac
    done
fi
