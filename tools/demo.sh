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
# The tree is made anew: only ever remove an earlier demo's tree.
if [ -e "$ROOT" ] && [ ! -f "$ROOT/httpd.conf" ] \
        && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ]; then
    echo "$ROOT exists and is not a demo tree: not removing it" >&2
    exit 2
fi
rm -rf "$ROOT"
mkdir -p "$ROOT/htdocs" "$ROOT/logs" "$ROOT/run"
cp -p examples/* "$ROOT/htdocs/"
chmod 755 "$ROOT" "$ROOT/htdocs" "$ROOT/htdocs/"*.py "$ROOT/htdocs/"*.cgi
chmod 777 "$ROOT/logs" "$ROOT/run"
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
