"""More processes answering REST on the server's one port: `--rest_api_processes`.

One Python process answers REST requests one at a time, whatever its threads (the interpreter
runs one thread at a time): on 2 CPUs, ~600-900 one-sample requests a second. The first
process binds one listening socket per process on the REST port with SO_REUSEPORT (the
kernel spreads connections evenly over them) and starts each other process as
`python -m tfgan.serving.rest_processes FD`, its socket inherited as file descriptor FD and the
`ServerOptions` pickled on its stdin. That process loads the models itself, polls their
directories (and `--model_config_file`) on its own, answers REST only (gRPC stays in the
first process), writes one line to its stdout once it serves, and ends with the first
process (`PR_SET_PDEATHSIG`). The first process keeps every socket open and starts another
process in the place of one that ends, so the connections the kernel hands to it wait.
"""

import asyncio
import ctypes
import dataclasses
import logging
import os
import pickle
import signal
import socket
import sys

_log = logging.getLogger("tfgan.serving")

# prctl's option that sends this process a signal when its parent ends.
_PR_SET_PDEATHSIG = 1


class RestProcesses:
    """The extra REST processes of a server: started, restarted if one ends, stopped.

    Args:
        options: `ServerOptions` of the server (`rest_api_processes` of them answer REST,
            this process included).
        rest_sockets: list of `socket.socket`, a listening REST socket for each (sharing the
            server's port).
    """

    def __init__(self, options, rest_sockets):
        self.options = dataclasses.replace(options, grpc_port=None, grpc_socket_path="")
        self.rest_sockets = rest_sockets
        self.processes = []
        self._watchers = []
        self._stopping = False

    async def start(self):
        """Starts the processes and returns once each serves (ServingError naming the one
        that ended first, with its last output)."""
        for index in range(len(self.rest_sockets)):
            self.processes.append(await self._spawn(index))
            self._watchers.append(asyncio.create_task(self._restart_when_ended(index)))

    async def _spawn(self, index):
        fd = self.rest_sockets[index].fileno()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tfgan.serving.rest_processes", str(fd), pass_fds=(fd,),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        process.stdin.write(pickle.dumps((self.options, _log.getEffectiveLevel())))
        process.stdin.close()
        ready = await process.stdout.readline()
        if not ready:
            from tfgan.serving.errors import ServingError

            status = await process.wait()
            raise ServingError.failed_precondition(
                f"a REST process (of --rest_api_processes) ended with status {status} before "
                "it served; its log is above")
        return process

    async def _restart_when_ended(self, index):
        while True:
            status = await self.processes[index].wait()
            if self._stopping:
                return
            ended = self.processes[index].pid
            self.processes[index] = await self._spawn(index)
            _log.error("REST process %d ended with status %s; REST process %d serves in its "
                       "place", ended, status, self.processes[index].pid)

    async def stop(self, grace_seconds):
        """SIGTERM to each (each lets its requests in flight finish), then waits for them."""
        self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), grace_seconds + 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        for rest_socket in self.rest_sockets:
            rest_socket.close()


def _end_with_parent():
    """Has Linux send this process SIGTERM when the process that started it ends."""
    try:
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() == 1:  # the parent ended before prctl took effect
        sys.exit(1)


def main():
    """An extra REST process: serves until SIGTERM or its parent's end."""
    _end_with_parent()
    from tfgan.cli.quiet import import_tensorflow_quietly

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
