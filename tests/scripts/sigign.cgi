#!/bin/sh
# The signals this process starts with ignored and blocked (hex masks
# from /proc/self/status), as a shell sees them: Python would set its
# own dispositions before a Python script could look.
printf 'Content-Type: text/plain\n\n'
grep -E '^Sig(Ign|Blk):' /proc/$$/status
