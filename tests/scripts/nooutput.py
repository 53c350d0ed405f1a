#!/usr/bin/python3
# Exits without writing anything.
