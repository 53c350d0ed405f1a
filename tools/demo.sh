#!/bin/sh
# Build mod_pycgi and serve examples/ on a private Apache at
# http://127.0.0.1:${DEMO_PORT:-8080}/ (Ctrl-C stops it).
# DEMO_BACKGROUND=1 starts it in the background and returns;
# DEMO_MPM=event runs Debian's default MPM instead of prefork;
# DEMO_ROOT is where its tree goes (default /tmp/pycgi-demo).
set -e
cd "$(dirname "$0")/.."
REPO=$(pwd)
PORT=${DEMO_PORT:-8080}
MPM=${DEMO_MPM:-prefork}
case "$MPM" in
    prefork|event|worker) ;;
    *) echo "DEMO_MPM must be prefork, event or worker, not $MPM" >&2; exit 2 ;;
esac
make -s all
ROOT=${DEMO_ROOT:-/tmp/pycgi-demo}
case "$ROOT" in
    /*) ;;
    *) echo "DEMO_ROOT must be an absolute path, not $ROOT" >&2; exit 2 ;;
esac
case "$ROOT" in
    *[!A-Za-z0-9/._-]*)
        echo "DEMO_ROOT may hold only letters, digits and / . _ -" >&2
        exit 2 ;;
esac
# The tree is made anew.  Only ever remove an earlier demo's tree (its
# marker, or a configuration that loads mod_pycgi beside hello.py), and
# stop the demo still running there first.
if [ -e "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null || echo unreadable)" ]; then
    if [ ! -f "$ROOT/.pycgi-demo" ] && ! { [ -f "$ROOT/htdocs/hello.py" ] \
            && grep -q "^LoadModule pycgi_module" "$ROOT/httpd.conf" 2>/dev/null; }; then
        echo "$ROOT exists and is not a demo's tree: not removing it" >&2
        exit 2
    fi
    if [ -f "$ROOT/run/httpd.pid" ] \
            && kill -0 "$(cat "$ROOT/run/httpd.pid")" 2>/dev/null; then
        echo "stopping the demo still running in $ROOT"
        /usr/sbin/apache2 -f "$ROOT/httpd.conf" -k stop || true
        i=0
        while [ $i -lt 100 ] && [ -f "$ROOT/run/httpd.pid" ]; do
            sleep 0.1
            i=$((i + 1))
        done
    fi
fi
rm -rf "$ROOT"
mkdir -p "$ROOT/htdocs" "$ROOT/logs" "$ROOT/run"
touch "$ROOT/.pycgi-demo"
cp -p examples/* "$ROOT/htdocs/"
chmod 755 "$ROOT" "$ROOT/htdocs" "$ROOT/htdocs/"*.py "$ROOT/htdocs/"*.cgi \
    "$ROOT/logs" "$ROOT/run"
cat > "$ROOT/httpd.conf" <<CONF
ServerRoot $ROOT
ServerName localhost
Listen 127.0.0.1:$PORT
LoadModule mpm_${MPM}_module /usr/lib/apache2/modules/mod_mpm_${MPM}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule pycgi_module $REPO/.libs/mod_pycgi.so
User www-data
Group www-data
TypesConfig /etc/mime.types
PidFile $ROOT/run/httpd.pid
DefaultRuntimeDir $ROOT/run
ErrorLog $ROOT/logs/error.log
LogLevel info
DocumentRoot $ROOT/htdocs
DirectoryIndex index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# The tutorials' configuration, unchanged: a ScriptAlias'd /cgi-bin/ and
# a directory with Options +ExecCGI and AddHandler cgi-script.
ScriptAlias /cgi-bin/ $ROOT/htdocs/
<Directory "$ROOT/htdocs">
    AllowOverride None
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .cgi .py
    PyCGIMode auto
</Directory>
CONF
echo "mod_pycgi demo ($MPM): http://127.0.0.1:$PORT/  (error log: $ROOT/logs/error.log)"
if [ -n "$DEMO_BACKGROUND" ]; then
    exec /usr/sbin/apache2 -f "$ROOT/httpd.conf" -k start
fi
exec /usr/sbin/apache2 -f "$ROOT/httpd.conf" -DFOREGROUND
