#!/usr/bin/env python3
"""Run the reference programs of this directory in forks of one Python that imported the slow
modules once.

The integration tests run about seventy reference programs, and each used to spend ~3 s of CPU
importing sidpy (which imports dask, scikit-learn, scipy.stats and matplotlib) before doing
milliseconds of work: on a 2-core machine that was most of the test stage. This server imports
numpy, h5py, scipy.signal, sidpy and pyNSID once; for each request it forks, and the child runs
the program exactly as `python PROGRAM ARGS...` would (`__main__`, sys.argv, the program's
directory first on sys.path, stdout and stderr captured, the exit status kept).

Deliberately NOT imported here: pyUSID and `pyusid_numpy2`, the numpy-2 shim pyUSID needs. A
program that wants pyUSID imports the shim and pyUSID itself (milliseconds once sidpy is loaded),
so a program that does not — the pyNSID and h5py ones — still runs on numpy 2 as it is, as before.

    preloaded.py SOCKET

Listens on the Unix socket SOCKET and prints `ready` once it does. A request is one JSON line,
{"program": PATH, "args": [...]}; the answer is one JSON line {"status": S, "stdout": N,
"stderr": M} (S as os.waitstatus_to_exitcode would give it: the exit code) followed by N bytes of
stdout and M bytes of stderr. The server ends when its stdin closes: the test process that
started it has ended.
"""
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
    """In the forked child: run the program as `python PROGRAM ARGS` would; return its status."""
    program = request["program"]
    sys.argv = [program, *request["args"]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))
    try:
        runpy.run_path(program, run_name="__main__")
        return 0
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001  (as the interpreter would: traceback, status 1)
        traceback.print_exc()
        return 1


def child(conn, listener):
    """Serve one request on `conn` and never return."""
    status = 70
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; a program's subprocess must not
        request = json.loads(conn.makefile("rb").readline())
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        status = run_program(request)
        sys.stdout.flush()
        sys.stderr.flush()
        captured = []
        for f in (out, err):
            f.seek(0)
            captured.append(f.read())
        head = {"status": status, "stdout": len(captured[0]), "stderr": len(captured[1])}
        conn.sendall(json.dumps(head).encode() + b"\n" + captured[0] + captured[1])
        conn.close()
    finally:
        os._exit(status)  # no clean-up of the server's state: it is the server's


def serve(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
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
            conn, _ = listener.accept()
            if os.fork() == 0:
                child(conn, listener)
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
