#!/usr/bin/env python3
"""Run the reference programs of this directory in forks of one Python that imported the slow
modules once.

The integration tests run about seventy reference programs, and each used to spend ~3 s of CPU
importing sidpy (which imports dask, scikit-learn, scipy.stats and matplotlib) before doing
milliseconds of work: on a 2-core machine that was most of the test stage. This server imports
numpy, h5py, scipy.signal, sidpy and pyNSID once. For each request it forks a supervisor, which
forks the program's process and reports how that process ended; the program runs as `python
PROGRAM ARGS...` runs it: as `__main__` with sys.argv set, its directory first on sys.path, stdin
empty, stdout and stderr captured, an uncaught exception printed with its traceback and status 1,
atexit handlers and garbage collection (closing what it left open) before it ends. What differs:
the preloaded modules' import-time warnings are not shown, OpenBLAS runs one thread and pyarrow's
jemalloc no background thread (the server must have one thread when it forks: see serve).

Deliberately NOT imported here: pyUSID and `pyusid_numpy2`, the numpy-2 shim pyUSID needs (the
server refuses to start if they are). A program that wants pyUSID imports the shim and pyUSID
itself (milliseconds once sidpy is loaded), so a program that does not still sees numpy 2 as it is.

    preloaded.py SOCKET

Listens on the Unix socket SOCKET (a leading `@` names an abstract one) and prints `ready` once
it does. A request is one JSON line, {"program": PATH, "args": [...]}; the answer is one JSON line
{"wait_status": W, "stdout": N, "stderr": M} (W as waitpid gives it: an exit code or a signal)
followed by N bytes of stdout and M bytes of stderr. The server ends when its stdin closes: the
test process that started it has ended.
"""
import atexit
import gc
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import tempfile
import traceback
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # import-time warnings belong to no program
    import h5py  # noqa: F401
    import numpy  # noqa: F401
    import pyNSID  # noqa: F401
    import scipy.signal  # noqa: F401
    import sidpy  # noqa: F401


def run_program(request):
    """In the program's process: run it as `python PROGRAM ARGS` would; return its status."""
    program = request["program"]
    sys.argv = [program, *request["args"]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))
    try:
        runpy.run_path(program, run_name="__main__")
        status = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            status = int(e.code or 0)
        else:
            print(e.code, file=sys.stderr)
            status = 1
    except BaseException:  # noqa: BLE001  (as the interpreter would: traceback, status 1)
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()  # as at interpreter exit (the preloaded modules' handlers too)
    gc.collect()  # objects the program left open (an h5py.File) are closed, as at exit
    return status


def program_process(request, out, err):
    """The program's process: stdin empty, stdout and stderr into `out` and `err`; never returns."""
    status = 70
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        status = run_program(request)
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001  (a program may have closed or replaced it)
                pass
        os._exit(status & 0xFF)


def supervise(conn):
    """Serve one request on `conn` (in a fork of the server); never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; waitpid needs it
        request = json.loads(conn.makefile("rb").readline())
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        pid = os.fork()
        if pid == 0:
            conn.close()
            program_process(request, out, err)
        _, wait_status = os.waitpid(pid, 0)
        captured = []
        for f in (out, err):
            f.seek(0)
            captured.append(f.read())
        head = {"wait_status": wait_status, "stdout": len(captured[0]), "stderr": len(captured[1])}
        conn.sendall(json.dumps(head).encode() + b"\n" + captured[0] + captured[1])
    finally:
        os._exit(0)  # whatever failed here, the client sees no answer and says so


def serve(path):
    if "pyUSID" in sys.modules or "pyusid_numpy2" in sys.modules:
        sys.exit("preloaded.py: pyUSID or its numpy-2 shim was imported; only its programs may")
    # A fork copies only the forking thread: a lock another thread held stays locked in the
    # child. OPENBLAS_NUM_THREADS=1 and JE_ARROW_MALLOC_CONF=background_thread:false (given by
    # the tests) keep OpenBLAS and pyarrow's jemalloc from starting theirs.
    tasks = "/proc/self/task"
    threads = sorted(open(f"{tasks}/{t}/comm").read().strip() for t in os.listdir(tasks))
    if len(threads) > 1:
        sys.exit(f"preloaded.py: threads running after the imports ({', '.join(threads)}); it forks")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + path[1:] if path.startswith("@") else path)
    listener.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    print("ready", flush=True)
    events = selectors.DefaultSelector()
    events.register(listener, selectors.EVENT_READ)
    events.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in events.select():
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    return
                continue
            try:
                conn, _ = listener.accept()
            except OSError as e:
                print(f"preloaded.py: accept: {e}", file=sys.stderr)
                continue
            try:
                if os.fork() == 0:
                    listener.close()
                    supervise(conn)
            except OSError as e:  # the client sees no answer and says so
                print(f"preloaded.py: fork: {e}", file=sys.stderr)
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
