"""More processes answering REST on the server's one port: `--rest_api_processes`.

One Python process answers REST requests one at a time, whatever its threads (the interpreter
runs one thread at a time): on 2 CPUs, ~600-900 one-sample requests a second. The first
process binds one listening socket per process on the REST port with SO_REUSEPORT (the
kernel spreads connections evenly over them) and starts each other process as
`python -m tfgan.cli.rest_process FD`, its socket inherited as file descriptor FD and the
`ServerOptions` pickled on its stdin. That process loads the models itself, polls their
directories (and `--model_config_file`) on its own, answers REST only (gRPC stays in the
first process), writes one line to its stdout once it serves, and ends with the first
process (tfgan/cli/rest_process.py). The first process keeps every socket open and starts
another process in the place of one that ends, so the connections the kernel hands to it
wait.
"""

import asyncio
import dataclasses
import logging
import pickle
import signal
import sys

from tfgan.serving.errors import ServingError

_log = logging.getLogger("tfgan.serving")


class RestProcesses:
    """The extra REST processes of a server: started, restarted if one ends, stopped.

    Args:
        options: `ServerOptions` of the server (`rest_api_processes` of them answer REST,
            this process included).
        rest_sockets: list of `socket.socket`, a listening REST socket for each (sharing the
            server's port).
        command: sequence of str, the command line of a process, before the socket's file
            descriptor. Defaults to `python -m tfgan.cli.rest_process`.
    """

    def __init__(self, options, rest_sockets, command=(sys.executable, "-m",
                                                       "tfgan.cli.rest_process")):
        self.options = dataclasses.replace(options, grpc_port=None, grpc_socket_path="")
        self.rest_sockets = rest_sockets
        self.command = tuple(command)
        self.processes = []
        self._watchers = []
        self._stopping = False

    async def start(self):
        """Starts the processes and returns once each serves (ServingError if one ends
        before it serves; its own log lines say why)."""
        for index in range(len(self.rest_sockets)):
            self.processes.append(await self._spawn(index))
            self._watchers.append(asyncio.create_task(self._restart_when_ended(index)))

    async def _spawn(self, index):
        fd = self.rest_sockets[index].fileno()
        process = await asyncio.create_subprocess_exec(
            *self.command, str(fd), pass_fds=(fd,),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        process.stdin.write(pickle.dumps((self.options, _log.getEffectiveLevel())))
        process.stdin.close()
        ready = await process.stdout.readline()
        if not ready:
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
            try:
                self.processes[index] = await self._spawn(index)
            except ServingError as error:
                # Closed, its socket leaves the port's group: the kernel stops handing it
                # connections that no process would ever accept.
                self.rest_sockets[index].close()
                _log.error("REST process %d ended with status %s and another could not take "
                           "its place (%s); the other processes answer", ended, status, error)
                return
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
