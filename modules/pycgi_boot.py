# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
#
# pycgi_boot.py -- the Python half of the embedded runner.  Compiled into
# mod_pycgi.so (as pycgi_boot.h) and imported once per httpd child as
# the module "_pycgi_boot".  C calls run() with the GIL held, one request
# at a time per process (see pycgi_interp.h for why).
#
# run() makes the interpreter look like a fresh CGI process for the
# length of one script: os.environ, sys.argv, sys.path[0], cwd, the std
# streams, __main__; and puts everything back afterwards.  Imported
# library modules stay loaded: that is where the speed comes from.

import builtins
import importlib.machinery
import io
import os
import sys
import time
import traceback

import _pycgi

_code_cache = {}          # path -> ((mtime_us, size, ino), code object)
_base_path = list(sys.path[1:]) if sys.path and sys.path[0] == '' else list(sys.path)
_server_pid = os.getpid()
_real_exit = os._exit
_real_sleep = time.sleep


class _ScriptExit(BaseException):
    """os._exit() inside a script: ends the script, not the server."""


def _exit(status):
    # A script's os._exit() ends its own "process" -- the request.  A
    # process the script forked really exits.
    if os.getpid() != _server_pid:
        _real_exit(status)
    raise _ScriptExit(status)


def _sleep(secs):
    # time.sleep() that the script timeout can cut short (a blocked
    # C-level sleep never sees the timeout's exception).
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    if not _pycgi.wait(secs):
        raise _pycgi.ScriptTimeout("script timed out during sleep()")


def _entry(path, key):
    # key: (mtime, size, inode) from the stat httpd made for the request.
    # An entry is [key, code or None, the __main__ globals it starts
    # with]; the code is compiled by execute(), under the script timeout.
    ent = _code_cache.get(path)
    if ent is not None and ent[0] == key:
        return ent
    ent = [key, None, {
        '__file__': path,
        '__builtins__': builtins,
        '__cached__': None,
        '__loader__': importlib.machinery.SourceFileLoader('__main__', path),
    }]
    _code_cache[path] = ent
    _pycgi.code_miss()
    return ent


def _compile(path, ent):
    with open(path, 'rb') as f:
        source = f.read()
    ent[1] = code = compile(source, path, 'exec', dont_inherit=True)
    return code


def enable_faulthandler():
    import faulthandler
    faulthandler.enable(file=2, all_threads=True)


_STACK_MAX = 100          # frames, as faulthandler shows at most


def stack_of(tid):
    """PyCGISlowLog: the Python stack of thread `tid` (the one running
    an embedded script), most recent call first, in faulthandler's
    format, without this runner's own frames; None if the thread has
    none.  Called by the watchdog thread with the GIL: reads no file,
    imports nothing."""
    frame = sys._current_frames().get(tid)
    if frame is None:
        return None
    lines = ['Stack of thread 0x%x (most recent call first):' % tid]
    while frame is not None and len(lines) <= _STACK_MAX:
        code = frame.f_code
        if code.co_filename != '<mod_pycgi boot>':
            lines.append('  File "%s", line %s in %s' % (
                code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    if frame is not None:
        lines.append('  ...')
    return '\n'.join(lines)


_ModuleType = type(sys)
_environ = os.environ
# os.environb is a second view of the same dict (os.py builds it on
# os.environ._data): both are pointed at the request's environment, or
# os.environb/os.getenvb() would show httpd's start-up environment.
_environb = os.environb
_modules = sys.modules


class _Run:
    """One script's run, from begin() to end()."""
    __slots__ = ('path', 'ent', 'cwd', 'saved', 'stdout', 'stderr', 'out',
                 'g')

    def __init__(self, path, ent, cwd, saved, stdout, stderr, out, g):
        self.path = path
        self.ent = ent              # the code cache entry
        self.cwd = cwd
        self.saved = saved          # what end() puts back
        self.stdout = stdout
        self.stderr = stderr
        self.out = out              # the raw stdout stream
        self.g = g                  # the script's globals


def begin(path, key, environ, argv, cwd, stdin, stdout, stderr, out):
    """Make the interpreter look like a fresh CGI process for `path`
    (the C side has made `cwd` the working directory already).
    stdin/stdout/stderr are the text streams, `out` the raw stdout
    stream.  Returns the _Run execute() and end() take."""
    ent = _entry(path, key)
    _runner[0] = _thread.get_ident()
    saved = (_environ._data, sys.argv, sys.stdin, sys.stdout, sys.stderr,
             _modules.get('__main__'), sys.excepthook, len(_modules))
    _environ._data = _environb._data = environ
    sys.argv = argv
    sys.path[:] = [cwd] + _base_path
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    # The globals a script run as "python3 path" starts with.
    main = _ModuleType('__main__')
    g = main.__dict__
    g.update(ent[2])
    g['__annotations__'] = {}
    _modules['__main__'] = main
    return _Run(path, ent, cwd, saved, stdout, stderr, out, g)


def execute(req):
    """Run the script.  Returns True if the runner's final flushes went
    through cleanly (the streams may then serve the next request).  An
    uncaught exception's traceback goes to stderr, i.e. the error log."""
    path, ent, saved, g = req.path, req.ent, req.saved, req.g
    stdout, stderr, out = req.stdout, req.stderr, req.out
    clean = True
    status = 0
    try:
        code = ent[1]
        if code is None:
            code = _compile(path, ent)
        exec(code, g)
    except SystemExit as e:
        status = _exit_status(e.code, stderr)
    except _ScriptExit as e:
        # os._exit(): a process dies with its stdio buffers unflushed.
        out.abandon()
        clean = False
        status = e.args[0] if e.args else 0
    except BaseException:
        # A crashing script: what a process would do -- sys.excepthook,
        # i.e. the traceback on stderr (the error log), never to the
        # client; unless the script installed its own hook (cgitb).
        # The traceback starts at the script, not in this runner.
        etype, value, tb = sys.exc_info()
        tb = tb.tb_next if tb is not None else None
        value.__traceback__ = tb
        info = (etype, value, tb)
        try:
            if sys.excepthook is not saved[6]:
                sys.excepthook(*info)
            else:
                traceback.print_exception(*info, file=stderr)
        except BaseException:
            try:
                traceback.print_exc(file=stderr)
            except BaseException:
                pass
        del info, etype, value, tb
        status = -1
    if _started and os.getpid() == _server_pid:
        try:
            _join_threads()
        except BaseException:
            pass
    if os.getpid() != _server_pid:
        # A child the script forked, ending any way but os._exit(): in a
        # CGI process it would just exit.  It must never return into
        # httpd (it would go on serving requests as a stray worker), and
        # its copy of our streams is not its to flush.
        _real_exit(status if isinstance(status, int) and 0 <= status < 256
                   else 1)
    _pycgi.ending()
    # python3 flushes sys.stdout and sys.stderr at exit, whatever the
    # script made them; ours are flushed in any case.
    for s in (sys.stdout, sys.stderr):
        if s is not stdout and s is not stderr:
            try:
                s.flush()
            except BaseException:
                pass
    for s in (stdout, stderr):
        try:
            s.flush()
        except BaseException:
            clean = False
    return clean


def end(req):
    """Put back what begin() changed.  Returns, for the runner: a number
    (bit 0: the script may have started child processes; the bits
    above: how many threads it left running) and the pids of the
    processes it started that were seen (both to reap); and what of the
    process state it changed could not be put back ('' if nothing)."""
    cwd, saved, g = req.cwd, req.saved, req.g
    (_environ._data, sys.argv, sys.stdin, sys.stdout, sys.stderr, main,
     sys.excepthook, nmods) = saved
    _environb._data = _environ._data
    sys.path[:] = _base_path
    if main is not None:
        _modules['__main__'] = main
    if len(_modules) != nmods:
        _forget_local_modules(cwd)
    g.clear()
    # The working directory is left where the script was: the next
    # embedded script sets its own, and httpd never relies on it.
    forked = _forked[0]
    _forked[0] = False
    pids = ()
    if _pids:
        pids = tuple(_pids)
        del _pids[:]
    left = 0
    if _started or _orphans:
        left = _orphan_threads()
    lost = _undo_process_state() if _undo else ''
    return ((1 if forked else 0) | (left << 1), pids, lost)


# Threads a script starts.  python3 waits for the non-daemon ones when
# the script ends and its exit kills the daemon ones; here the runner
# waits the same way (execute()), and a thread still running after that
# gets SystemExit raised in it and can reach no request any more
# (_pycgi.orphans; the runner logs it, and retires the child under
# prefork).  Threads made with _thread.start_new_thread are not seen.
_started = []
_orphans = set()


def _join_threads():
    # Like threading._shutdown(): threads started by threads count too.
    # Joined in short steps so the script's timeout can land here.
    while _started:
        t = _started.pop()
        while not t.daemon and t.is_alive():
            t.join(0.05)
        _orphans.add(t)


def _orphan_threads():
    _orphans.update(_started)
    del _started[:]
    alive = {t for t in _orphans if t.is_alive()}
    new = len(alive - _orphaned_before)
    _orphans.clear()
    _orphans.update(alive)
    if alive != _orphaned_before:
        _pycgi.orphans([t.ident for t in alive if t.ident is not None])
        _orphaned_before.clear()
        _orphaned_before.update(alive)
    return new


_orphaned_before = set()


def _exit_status(code, stderr):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    # sys.exit("message") prints the message to stderr, exit status 1.
    try:
        print(code, file=stderr)
    except Exception:
        pass
    return 1


def _forget_local_modules(cwd):
    # Modules imported from the script's own directory (or below it:
    # packages) are the script's business: dropped after each request so
    # that edits show and two directories' "utils" never mix.  Library
    # modules stay.
    prefix = cwd.rstrip('/') + '/'
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, '__file__', None)
        if f and f.startswith(prefix):
            del sys.modules[name]


def install_compat(sources, first):
    # modules/compat/finder.py, compiled in beside cgi and cgitb.
    ns = {}
    exec(sources['_finder'], ns)
    ns['install'](sources, first)


# Did the script start processes, and which?  The runner reaps them
# whichever thread started them (a CGI process's children would go to
# init).  os.fork() and friends run the at-fork hooks (a fork made in C
# is seen only that way: the runner then looks at its own thread's
# children); subprocess and posix_spawn do not.  So the Python calls
# are wrapped, and keep the pids they return.
_forked = [False]
_pids = []


def _note_fork():
    _forked[0] = True


def _keep_pid(pid):
    if pid and os.getpid() == _server_pid and pid not in _pids:
        _pids.append(pid)


def _noting(func, pid_of=lambda res: res):
    def wrapper(*args, **kwargs):
        _forked[0] = True
        res = func(*args, **kwargs)
        _keep_pid(pid_of(res))
        return res
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper


def _noting_popen(func):
    def _execute_child(self, *args, **kwargs):
        _forked[0] = True
        try:
            return func(self, *args, **kwargs)
        finally:
            _keep_pid(getattr(self, 'pid', None))
    _execute_child.__wrapped__ = func
    return _execute_child


os.register_at_fork(after_in_parent=_note_fork,
                    after_in_child=_pycgi.forked_child)
for _name in ('fork', 'posix_spawn', 'posix_spawnp'):
    if hasattr(os, _name):
        setattr(os, _name, _noting(getattr(os, _name)))
if hasattr(os, 'forkpty'):
    os.forkpty = _noting(os.forkpty, lambda res: res[0])
import subprocess  # noqa: E402  (patched once, for every script)
subprocess.Popen._execute_child = _noting_popen(
    subprocess.Popen._execute_child)

# Process state a CGI process takes with it when it exits: signal
# dispositions, alarms, the umask, resource limits, the runner thread's
# signal mask.  The Python calls that change it note how it was, and
# end() puts it back.  (A C extension changing it is not seen.)
import signal  # noqa: E402
import resource  # noqa: E402
import _thread  # noqa: E402

_undo = {}              # what -> how to put it back, in order of change
_runner = [None]        # ident of the thread running the script


def _noting_state(key, undo_factory):
    # First change of `key` in this request: keep how to undo it.
    if key not in _undo and os.getpid() == _server_pid:
        _undo[key] = undo_factory()


def _undo_process_state():
    lost = []
    for key, undo in reversed(list(_undo.items())):
        try:
            undo()
        except Exception:
            lost.append(key if isinstance(key, str) else
                        '%s %s' % key)
    _undo.clear()
    _pycgi.restore_signals()
    return ' '.join(lost)


_real_signal = signal.signal


def _signal(signalnum, handler):
    def saving():
        _pycgi.save_signal(signalnum)
        old = signal.getsignal(signalnum)
        # Python's own view first; restore_signals() then puts back what
        # the kernel had (also a handler httpd installed).
        return lambda: old is not None and _real_signal(signalnum, old)
    _noting_state(('signal', int(signalnum)), saving)
    return _real_signal(signalnum, handler)


_signal.__doc__ = _real_signal.__doc__
signal.signal = _signal

_real_setitimer = signal.setitimer


def _setitimer(which, *args):
    _noting_state(('itimer', which),
                  lambda: lambda: _real_setitimer(which, 0))
    return _real_setitimer(which, *args)


_setitimer.__doc__ = _real_setitimer.__doc__
signal.setitimer = _setitimer

_real_alarm = signal.alarm


def _alarm(seconds):
    _noting_state(('itimer', signal.ITIMER_REAL),
                  lambda: lambda: _real_setitimer(signal.ITIMER_REAL, 0))
    return _real_alarm(seconds)


_alarm.__doc__ = _real_alarm.__doc__
signal.alarm = _alarm

_real_sigmask = signal.pthread_sigmask


def _pthread_sigmask(how, mask):
    # Only the runner thread's own mask is the process's business (other
    # threads' die with them).
    if _thread.get_ident() == _runner[0]:
        def saving():
            old = _real_sigmask(signal.SIG_BLOCK, [])
            return lambda: _real_sigmask(signal.SIG_SETMASK, old)
        _noting_state('sigmask', saving)
    return _real_sigmask(how, mask)


_pthread_sigmask.__doc__ = _real_sigmask.__doc__
signal.pthread_sigmask = _pthread_sigmask

_real_umask = os.umask


def _umask(mask):
    old = _real_umask(mask)
    _noting_state('umask', lambda: lambda: _real_umask(old))
    return old


_umask.__doc__ = _real_umask.__doc__
os.umask = _umask

_real_setrlimit = resource.setrlimit


def _setrlimit(res, limits):
    def saving():
        old = resource.getrlimit(res)
        return lambda: _real_setrlimit(res, old)
    names = [n for n in dir(resource) if n.startswith('RLIMIT_')
             and getattr(resource, n) == res]
    _noting_state(names[0] if names else 'RLIMIT %d' % res, saving)
    return _real_setrlimit(res, limits)


_setrlimit.__doc__ = _real_setrlimit.__doc__
resource.setrlimit = _setrlimit

import threading  # noqa: E402
_thread_start = threading.Thread.start


def _start(self):
    _started.append(self)
    return _thread_start(self)


_start.__doc__ = _thread_start.__doc__
threading.Thread.start = _start

os._exit = _exit
time.sleep = _sleep
