# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
#
# pycgi_worker.py -- the Python half of the daemon worker.  Compiled into
# pycgi-worker (as pycgi_worker_py.h) and imported once at boot as the
# module "_pycgi_worker".  The C half (pycgi_worker.c) calls run() and
# then end() for every request, one at a time, with the GIL held.
#
# A worker is a real process: its std streams are the ones Python made
# at boot over fds 0, 1 and 2, and the C half dup2()s each request's
# pipes onto those fds.  run() makes the interpreter look like
# "/usr/bin/python3 script.py" for one script (sys.argv, sys.path,
# __main__; os.environ is filled by C); end() puts back what is cheap to
# put back and reports, as a PYCGI_RETIRE_* number, what is not.

import builtins
import importlib.machinery
import importlib.util
import io
import os
import sys

_RETIRE_THREADS = 4
_RETIRE_SIGNALS = 5
_RETIRE_PROCESS = 6
_RETIRE_STDIO = 8

_code_cache = {}    # path -> [(mtime_us, size, ino), code or None, globals, sys.path[0]]
_base_path = list(sys.path)
_environ = os.environ
_environ_data = os.environ._data
_environb = os.environb
_modules = sys.modules
_ModuleType = type(sys)
_boot_main = _modules.get('__main__')
_boot_excepthook = sys.excepthook
_boot_displayhook = sys.displayhook
_stdin, _stdout, _stderr = sys.stdin, sys.stdout, sys.stderr
_boot_streams = (_stdin, _stdout, _stderr)
_boot_buffers = (_stdin.buffer, _stdout.buffer, _stderr.buffer)
_python = sys.executable

# Set by the wrappers below when a script touched process state that is
# too costly to compare after every request (see pycgi_worker_proc.c).
_touched = [0]
_TOUCH_SIGNALS = 1
_TOUCH_PROCESS = 2
_TOUCH_CHILDREN = 4     # subprocess, posix_spawn: no at-fork hook runs
_TOUCH_CWD = 8


def _entry(path, key):
    # key: (mtime, size, inode) from the stat httpd made for the request.
    ent = _code_cache.get(path)
    if ent is not None and ent[0] == key:
        return ent
    # sys.path[0] as python3 computes it: the directory of the script
    # with symlinks resolved.  Once per cache miss, not per request.
    spath0 = os.path.dirname(os.path.realpath(path))
    # The globals python3 starts __main__ with, in its order (a fresh
    # module gives __name__, __doc__, __package__, __spec__).
    ent = [key, None, {
        '__loader__': importlib.machinery.SourceFileLoader('__main__', path),
        '__annotations__': None,
        '__builtins__': builtins,
        '__file__': path,
        '__cached__': None,
    }, spath0]
    _code_cache[path] = ent
    return ent


def _exit_status(code):
    # What python3 does with SystemExit's code at exit.
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff
    # sys.exit("message") prints the message to stderr, exit status 1.
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


def _report(info):
    # An uncaught exception: sys.excepthook, as python3 calls it (the
    # script's own hook, e.g. cgitb's, or the built-in one).
    try:
        sys.excepthook(*info)
    except BaseException as e:
        try:
            print('Error in sys.excepthook:', file=sys.stderr)
            sys.__excepthook__(type(e), e, e.__traceback__)
            print('\nOriginal exception was:', file=sys.stderr)
            sys.__excepthook__(*info)
        except BaseException:
            pass


def run(path, key, argv, pythonpath):
    """Run one script as "python3 path" would (C has set fds 0-2, the
    C environ, os.environ and the working directory).  Returns the exit
    status python3 would have had (0-255)."""
    ent = _entry(path, key)
    _spath0[0] = ent[3]
    sys.argv = argv
    sys.orig_argv = [_python] + argv
    if pythonpath:
        sys.path[:] = [ent[3]] + [p for p in pythonpath.split(':') if p] \
            + _base_path
    else:
        sys.path[:] = [ent[3]] + _base_path
    main = _ModuleType('__main__')
    g = main.__dict__
    g.update(ent[2])
    g['__annotations__'] = {}
    _modules['__main__'] = main
    _cur_globals[0] = g
    status = 0
    try:
        code = ent[1]
        if code is None:
            with open(path, 'rb') as f:
                source = f.read()
            ent[1] = code = compile(source, path, 'exec', dont_inherit=True)
        exec(code, g)
    except SystemExit as e:
        status = _exit_status(e.code)
    except BaseException:
        # The traceback starts at the script, not in this runner.
        etype, value, tb = sys.exc_info()
        tb = tb.tb_next if tb is not None else None
        value.__traceback__ = tb
        _report((etype, value, tb))
        del etype, value, tb
        status = 1
    # What python3 does at exit, in its order: wait for the non-daemon
    # threads (the response includes their output; the worker retires),
    # the script's atexit callbacks, then flush sys.stdout and stderr (a
    # failed stdout flush makes the exit status 120).
    threading = _modules.get('threading')
    if threading is not None and threading.active_count() > 1:
        _threads_left[0] = True
        try:
            threading._shutdown()
        except BaseException:
            _report(sys.exc_info())
    if _script_exits:
        _run_script_exits()
    for s in (sys.stdout, sys.stderr):
        try:
            if not s.closed:
                s.flush()
        except BaseException:
            if s is sys.stdout and status == 0:
                status = 120
    if sys.stdout is not _stdout or sys.stderr is not _stderr:
        for s in (_stdout, _stderr):
            try:
                if not s.closed:
                    s.flush()
            except BaseException:
                pass
    return status


def _unwrap(name, boot, buf):
    # The script rebound sys.<name>.  A wrapper over our buffer
    # (io.TextIOWrapper(sys.stdout.buffer, ...), a CGI idiom) is detached
    # so that its collection later cannot close the buffer.
    s = getattr(sys, name)
    try:
        if isinstance(s, io.TextIOWrapper) and s.buffer is buf:
            s.detach()
    except BaseException:
        pass
    setattr(sys, name, boot)


_spath0 = ['/']


def end(body):
    """Put the interpreter back for the next script (C has put a pipe at
    EOF on fd 0; fds 1 and 2 are still the request's: what is flushed
    here, or printed by a __del__ of the script's objects, is its
    output, as at a CGI process's exit).  `body`:
    the request had one.  Returns a PYCGI_RETIRE_* reason to retire for,
    0, or minus the _TOUCH_* bits of what the C half must look at."""
    retire = 0
    if sys.stdin is not _stdin:
        _unwrap('stdin', _stdin, _boot_buffers[0])
    if sys.stdout is not _stdout:
        _unwrap('stdout', _stdout, _boot_buffers[1])
    if sys.stderr is not _stderr:
        _unwrap('stderr', _stderr, _boot_buffers[2])
    try:
        # What the script left unread of the body in stdin's buffers (fd
        # 0 is at EOF now: three system calls, so only if there was a
        # body).
        if body:
            _stdin.read()
    except BaseException:
        retire = _RETIRE_STDIO
    if _stdin.closed or _stdout.closed or _stderr.closed \
            or _boot_buffers[0].closed or _boot_buffers[1].closed \
            or _boot_buffers[2].closed:
        retire = _RETIRE_STDIO
    if sys.excepthook is not _boot_excepthook:
        sys.excepthook = _boot_excepthook
    if sys.displayhook is not _boot_displayhook:
        sys.displayhook = _boot_displayhook
    main = _modules.get('__main__')
    _modules['__main__'] = _boot_main
    if os.environ is not _environ:
        os.environ = _environ
    if _environ._data is not _environ_data \
            or _environb._data is not _environ_data:
        _environ._data = _environb._data = _environ_data
    sys.path[:] = _base_path
    _cur_globals[0] = None
    if main is not None:
        main.__dict__.clear()
        del main
    _forget_local_modules(_spath0[0])
    try:
        # Any output a failed flush left behind, and what a __del__ of
        # the script's objects printed just above: the script's, out
        # now, never with the next request.
        _stdout.flush()
        _stderr.flush()
    except BaseException:
        retire = _RETIRE_STDIO
    if _threads_left[0]:
        # threading._shutdown() ran: this interpreter's threading is
        # finished, as in a process at exit (C threads: the C half's
        # count).
        retire = _RETIRE_THREADS
    t = _touched[0]
    if t and not retire:
        _touched[0] = 0
        if t & _TOUCH_SIGNALS and _signals_changed():
            return _RETIRE_SIGNALS
        return -t
    return retire


# Threads were running when the script ended (see run()).
_threads_left = [False]
_real_atexit_register = None

# atexit callbacks the script's own code registered (functions of its
# __main__): run after it, as python3 runs them at exit, and removed.
# Those that library modules register when imported stay, as in any
# long-lived process -- except in a forked child (fork isolation), which
# runs every callback registered since the fork, and none of the
# worker's.
_script_exits = []
_cur_globals = [None]


def _atexit_register(func, *args, **kwargs):
    _real_atexit_register(func, *args, **kwargs)
    if _fork_child[0] \
            or getattr(func, '__globals__', None) is _cur_globals[0]:
        _script_exits.append((func, args, kwargs))
    return func


def _run_script_exits():
    import atexit
    calls = list(_script_exits)
    del _script_exits[:]
    for func, args, kwargs in calls:
        atexit.unregister(func)
    for func, args, kwargs in reversed(calls):
        try:
            func(*args, **kwargs)
        except BaseException as e:
            # As python3 reports it (the unraisable hook's format).
            try:
                import traceback
                print('Exception ignored in atexit callback: %r' % (func,),
                      file=sys.stderr)
                traceback.print_exception(type(e), e, e.__traceback__.tb_next,
                                          file=sys.stderr)
            except BaseException:
                pass


def _forget_local_modules(spath0):
    # Modules imported from the script's own directory (or below it:
    # packages) are the script's business: dropped after each request so
    # that edits show and two directories' "utils" never mix.  Library
    # modules stay.  sys.modules only grows when something was imported.
    n = len(_modules)
    if n == _nmods[0]:
        return
    prefix = spath0.rstrip('/') + '/'
    for name, mod in list(_modules.items()):
        f = getattr(mod, '__file__', None)
        if f and f.startswith(prefix):
            del _modules[name]
    _nmods[0] = len(_modules)


_nmods = [0]


# --- signals and process state ------------------------------------------

import _signal  # noqa: E402

_boot_handlers = {}


def _signals_changed():
    for n, h in _boot_handlers.items():
        try:
            if _signal.getsignal(n) is not h:
                return True
        except BaseException:
            return True
    return False


def _touching(func, what):
    def wrapper(*args, **kwargs):
        _touched[0] |= what
        return func(*args, **kwargs)
    wrapper.__name__ = func.__name__
    wrapper.__qualname__ = getattr(func, '__qualname__', func.__name__)
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper


def _wrap(mod, names, what):
    for name in names:
        f = getattr(mod, name, None)
        if f is not None:
            setattr(mod, name, _touching(f, what))


def boot(compat, compat_first, preload_ok):
    """Once, before the first request (after --preload)."""
    for n in range(1, _signal.NSIG):
        try:
            _boot_handlers[n] = _signal.getsignal(n)
        except (ValueError, OSError):
            pass
    # signal.signal() and friends look up _signal's functions at call
    # time, so wrapping _signal's catches both spellings.
    names = ('signal', 'alarm', 'setitimer', 'pthread_sigmask',
             'set_wakeup_fd', 'siginterrupt')
    import signal
    orig = dict((n, getattr(_signal, n, None)) for n in names)
    _wrap(_signal, names, _TOUCH_SIGNALS)
    # signal.py copied some of them ("from _signal import *").
    for n in names:
        if orig[n] is not None and getattr(signal, n, None) is orig[n]:
            setattr(signal, n, getattr(_signal, n))
    _wrap(os, ('umask', 'setuid', 'setgid', 'seteuid', 'setegid',
               'setreuid', 'setregid', 'setresuid', 'setresgid',
               'setgroups', 'initgroups', 'chroot', 'nice',
               'setpriority', 'setsid', 'setpgid', 'setpgrp'),
          _TOUCH_PROCESS)
    _wrap(os, ('chdir', 'fchdir'), _TOUCH_CWD)
    _wrap(os, ('posix_spawn', 'posix_spawnp'), _TOUCH_CHILDREN)
    # subprocess.Popen forks through _posixsubprocess.fork_exec (looked
    # up at each call).  Wrapped there, not in subprocess: importing
    # subprocess imports threading, whose at-fork hook every process
    # forked from the worker (fork isolation) would then run.
    import _posixsubprocess
    _wrap(_posixsubprocess, ('fork_exec',), _TOUCH_CHILDREN)
    try:
        import resource
        _wrap(resource, ('setrlimit', 'prlimit'), _TOUCH_PROCESS)
    except ImportError:
        pass
    if 'faulthandler' in _modules:
        _wrap(_modules['faulthandler'], ('register', 'unregister'),
              _TOUCH_SIGNALS)
    import atexit
    global _real_atexit_register
    _real_atexit_register = atexit.register
    atexit.register = _atexit_register
    _install_compat(compat, compat_first)
    _nmods[0] = len(_modules)


def enable_faulthandler():
    import faulthandler
    faulthandler.enable(file=2, all_threads=True)


def register_slow_signal(signum):
    """PyCGISlowLog: httpd sends signum to ask for the stack of a slow
    script; faulthandler writes every thread's to fd 2 (the request's
    stderr) from the signal handler itself, whatever the script is doing.
    Done before the boot snapshot: the handler is the worker's own."""
    import faulthandler
    faulthandler.register(signum, file=2, all_threads=True, chain=False)


def stdio_config(encoding, errors):
    """Reconfigure the std streams for a request whose locale differs
    from the last one's (stderr keeps backslashreplace, as python3)."""
    import codecs
    encoding = codecs.lookup(encoding).name
    for s in (_stdin, _stdout):
        s.reconfigure(encoding=encoding, errors=errors)
    _stderr.reconfigure(encoding=encoding, errors='backslashreplace')


def error_line(value):
    # An exception, on one line for the log.
    if value is None:
        return 'unknown error'
    text = '%s: %s' % (type(value).__name__, value)
    return text.replace('\n', ' ')


def _install_compat(sources, first):
    # modules/compat/finder.py, compiled in beside cgi and cgitb.
    ns = {}
    exec(sources['_finder'], ns)
    ns['install'](sources, first)


# --- PyCGIIsolation fork ------------------------------------------------
#
# The worker (the zygote) never runs a script: it compiles the script
# (prepare), forks, and waits.  The child runs the script as above and
# exits without finalising anything of the worker's; before it exits it
# names the library modules it imported (fork_end), which the worker
# then imports itself for later children (learn), within bounds.

import gc  # noqa: E402

_fork_child = [False]
_learned = set()
_learn_failed = set()
_LEARN_MAX = 512          # modules a worker imports on its children's word
_LEARN_PER_CHILD = 256    # names one child may send
_lib_dirs = tuple(p.rstrip('/') + '/' for p in _base_path
                  if p.startswith('/') and os.path.isdir(p))


def prepare(path, key):
    """In the worker, before a fork: the script's code object cached (a
    script that does not compile is left to the child to report)."""
    ent = _entry(path, key)
    if ent[1] is None:
        try:
            with open(path, 'rb') as f:
                source = f.read()
            ent[1] = compile(source, path, 'exec', dont_inherit=True)
        except BaseException:
            pass
    gc.freeze()


def fork_begin():
    """In the child, before the script."""
    _fork_child[0] = True


def fork_end(fd, fresh):
    """In the child, after the script: of the modules it imported (the
    C half's (name, module) pairs, new in sys.modules), the names of
    the library ones (from the interpreter's own path, never the
    script's directory or PYTHONPATH), one a line, on the learning
    pipe."""
    names = []
    try:
        for name, mod in fresh:
            if name in _learn_failed:
                continue
            spec = getattr(mod, '__spec__', None)
            origin = getattr(spec, 'origin', None)
            if not isinstance(origin, str) or not origin.startswith(_lib_dirs):
                continue
            names.append(name)
            if len(names) >= _LEARN_PER_CHILD:
                break
        if names:
            os.write(fd, ('\n'.join(names) + '\n').encode('ascii', 'replace'))
    except BaseException:
        pass


# Imported for their effect, not their contents: never on a child's word.
_LEARN_NEVER = frozenset(('antigravity', 'this', 'idlelib', 'tkinter',
                          'turtle', 'turtledemo', '__main__'))


def _module_name(name):
    return 0 < len(name) <= 128 and all(
        part.isidentifier() for part in name.split('.')) \
        and name.split('.')[0] not in _LEARN_NEVER \
        and not name.startswith('_pycgi')


def learn(data):
    """In the worker: import what a child named (a script can write
    there too: names only, bounded, library path only, failures never
    retried).  Returns how many modules were imported."""
    n = 0
    # Packages before their parts (sys.modules lists a package after the
    # submodules its __init__ imported: the import system moves it to
    # the end once it is loaded).
    names = data.decode('ascii', 'replace').split('\n')
    names.sort(key=lambda name: name.count('.'))
    for name in names:
        if len(_learned) >= _LEARN_MAX:
            break
        if not _module_name(name) or name in _modules \
                or name in _learn_failed:
            continue
        # A submodule's package first (find_spec would import it).
        if '.' in name and name.rpartition('.')[0] not in _modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
            origin = getattr(spec, 'origin', None)
            if not isinstance(origin, str) \
                    or not origin.startswith(_lib_dirs):
                _learn_failed.add(name)
                continue
            importlib.import_module(name)
            _learned.add(name)
            n += 1
        except BaseException:
            _learn_failed.add(name)
    return n


_WARM_SOURCE = """\
import os, sys
print("Content-Type: text/html")
print()
print("<html><body><h2>%s</h2></body></html>" % os.environ.get("X", "x"))
sys.stdout.flush()
"""


def warm(times):
    """At boot, for fork isolation: run the request path (run(), end(),
    printing to fd 1 = /dev/null) a few times on a built-in script, so
    that the interpreter's code for it is quickened here, once, rather
    than written to again in every forked child."""
    path = '<pycgi-warm>'
    key = (0, 0, 0)
    ent = _entry(path, key)
    ent[1] = compile(_WARM_SOURCE, path, 'exec', dont_inherit=True)
    # sys.path[0] and the prefix end() drops modules under: no file is
    # there (a real directory would be searched and emptied).
    ent[3] = path
    for _ in range(times):
        run(path, key, [path], None)
        end(False)
    del _code_cache[path]
    _touched[0] = 0
