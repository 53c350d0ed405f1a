#!/usr/bin/python3
# The usual "if __name__ == '__main__'" layout, reporting how it was run.
import os
import sys


def main():
    print("Content-Type: text/plain")
    print()
    print("__name__=%s" % __name__)
    print("__file__=%s" % os.path.abspath(__file__))
    print("argv0=%s" % sys.argv[0])
    print("path0=%s" % sys.path[0])


if __name__ == "__main__":
    main()
