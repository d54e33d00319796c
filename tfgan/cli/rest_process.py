"""One more process answering REST for `tfgan-serve --rest_api_processes`:
`python -m tfgan.cli.rest_process FD`.

Started by the first server process (`tfgan.serving.rest_processes.RestProcesses`), never by
hand: FD is its listening socket on the REST port, its stdin the pickled `(ServerOptions, log
level)`. It serves REST until SIGTERM, which Linux also sends when the first process ends
(`PR_SET_PDEATHSIG`), writes one line to its stdout once it serves, and logs to the server's
log (stderr) with its pid.
"""

import ctypes
import logging
import os
import pickle
import signal
import socket
import sys

from tfgan.cli.quiet import import_tensorflow_quietly

_log = logging.getLogger("tfgan.serving")

# prctl's option that sends this process a signal when its parent ends.
_PR_SET_PDEATHSIG = 1


def _end_with_parent():
    """Has Linux send this process SIGTERM when the process that started it ends."""
    try:
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() == 1:  # the parent ended before prctl took effect
        sys.exit(1)


def main():
    """Serves REST on the inherited socket until SIGTERM or the first process's end."""
    _end_with_parent()
    import_tensorflow_quietly()
    from tfgan.serving.errors import ServingError
    from tfgan.serving.server import run_server

    options, log_level = pickle.load(sys.stdin.buffer)
    logging.basicConfig(level=log_level,
                        format=f"tfgan-serve REST process {os.getpid()}: %(message)s")
    rest_socket = socket.socket(fileno=int(sys.argv[1]))
    started = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # later output goes to the server's log

    def on_started():
        started.write("started\n")
        started.close()

    try:
        run_server(options, on_ready=lambda message: None, rest_socket=rest_socket,
                   on_started=on_started)
    except (OSError, ServingError, ValueError) as error:
        _log.error("%s", " ".join(str(error).split()))
        sys.exit(1)


if __name__ == "__main__":
    main()
