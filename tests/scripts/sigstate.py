#!/bin/sh
# A shell script (despite its name: the hostile directories hand only
# .py to the CGI handler) reporting its blocked and ignored signals
# (SigBlk, SigIgn of /proc/self/status, hex).  A shell, because python3
# ignores SIGPIPE and SIGXFSZ itself at start-up.
echo "Content-Type: text/plain"
echo ""
grep -E '^Sig(Blk|Ign):' /proc/$$/status
