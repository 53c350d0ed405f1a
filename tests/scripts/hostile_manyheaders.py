#!/usr/bin/python3
# Hostile: 10,000 header lines.
import sys

lines = ["Content-Type: text/plain"]
lines += ["X-H%05d: v%d" % (i, i) for i in range(10000)]
sys.stdout.write("\n".join(lines) + "\n\n")
sys.stdout.write("body after 10000 headers\n")
