#!/bin/sh
# A shell script (despite its name: the hostile directories hand only
# .py to the CGI handler) reporting its blocked and ignored signals
# (SigBlk, SigIgn of /proc/self/status, hex).  A shell, because python3
# ignores SIGPIPE and SIGXFSZ itself at start-up.  Builtins only: dash
# blocks every signal around each fork, so a grep reading the shell's
# status could see that moment's mask instead of the one it started
# with.
echo "Content-Type: text/plain"
echo ""
while read -r line; do
    case $line in
        SigBlk:*|SigIgn:*) echo "$line" ;;
    esac
done < /proc/self/status
