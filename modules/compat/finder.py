# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
#
# finder.py -- serves mod_pycgi's own cgi and cgitb (compiled into
# mod_pycgi.so and pycgi-worker as C strings) to scripts: behind the
# standard library normally, so only where it lacks them (Python 3.13+);
# in front with PyCGICompatModules Always.  One implementation for the
# embedded runner (pycgi_boot.py) and the daemon worker (pycgi_worker.py):
# each executes this source and calls install().

import sys


class CompatFinder:

    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name in self.sources:
            import importlib.util
            return importlib.util.spec_from_loader(
                name, self, origin='mod_pycgi compat ' + name)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        code = compile(self.sources[module.__name__],
                       '<mod_pycgi compat %s>' % module.__name__, 'exec',
                       dont_inherit=True)
        exec(code, module.__dict__)


def install(sources, first):
    """sources: module name -> source ("_finder", this file, left out)."""
    finder = CompatFinder({k: v for k, v in sources.items()
                           if not k.startswith('_')})
    if first:
        sys.meta_path.insert(0, finder)
    else:
        sys.meta_path.append(finder)
