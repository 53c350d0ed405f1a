# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
"""Turn a text file into a C header holding it as one string constant.

Usage: cstring.py SOURCE NAME > header.h
"""
import sys


def main():
    src, name = sys.argv[1], sys.argv[2]
    with open(src, encoding='utf-8') as f:
        text = f.read()
    out = ['/* generated from %s by tools/cstring.py: do not edit */' % src,
           'static const char %s[] =' % name]
    for line in text.splitlines():
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        out.append('    "%s\\n"' % esc)
    out.append(';')
    sys.stdout.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
