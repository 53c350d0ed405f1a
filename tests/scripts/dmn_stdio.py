#!/usr/bin/python3
# What a script may do to its std fds and streams, for the daemon's
# kept pipes (the query says what):
#   big      200 KB on stdout and 100 KB on stderr
#   replace  fds 1 and 2 dup2()ed over with /dev/null after the answer
#   close    the answer, then os.close(1) and os.close(2)
#   leak     the answer, then fd 1 dup2()ed over with /dev/null, with a
#            copy of it left open (the pipe stays open in the worker)
#   badhdr   a malformed header line, then 200 KB of body
#   stderr   one stderr line naming the query's tag
#   nonblock the answer, with stdout left non-blocking
#   bgjob    the answer; a background job of the shell (os.system,
#            which forks in a way no Python hook sees) writes a line to
#            the inherited stdout a second later
import os, sys

what = os.environ.get("QUERY_STRING", "")
tag = what.partition("tag=")[2]

if what.startswith("badhdr"):
    sys.stdout.write("this is not a header\n\n" + "x" * 200000)
    sys.exit(0)

sys.stdout.write("Content-Type: text/plain\n\n")
if what.startswith("big"):
    sys.stdout.write(("o" * 99 + "\n") * 2000)
    sys.stderr.write(("e" * 99 + "\n") * 1000)
elif what.startswith("replace"):
    sys.stdout.write("replaced\n")
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    print("lost")
elif what.startswith("leak"):
    sys.stdout.write("leaked\n")
    sys.stdout.flush()
    os.environ["LEAKED_FD"] = str(os.dup(1))
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
elif what.startswith("close"):
    sys.stdout.write("closed\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.close(1)
    os.close(2)
elif what.startswith("nonblock"):
    sys.stdout.write("nonblock\n")
    sys.stdout.flush()
    os.set_blocking(1, False)
elif what.startswith("bgjob"):
    sys.stdout.write("bgjob\n")
    sys.stdout.flush()
    os.system("(sleep 1; echo LATE-%s) &" % tag)
elif what.startswith("stderr"):
    sys.stderr.write("stdio-tag %s\n" % tag)
    sys.stdout.write("stderr %s\n" % tag)
