#!/usr/bin/python3
# Hostile: exits successfully without writing anything.
import sys

sys.exit(0)
