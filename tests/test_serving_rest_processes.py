"""Tests for tfgan.serving.rest_processes: what happens when an extra REST process ends.

`tests/test_cli_serve.py` runs the real processes (they share the port, one killed comes back,
all end with the server); here a stand-in command takes their place, to make a replacement
that cannot start.
"""

import asyncio
import logging
import socket
import sys
import textwrap

from tfgan.serving import ServerOptions
from tfgan.serving.rest_processes import RestProcesses

# Stands in for `python -m tfgan.cli.rest_process FD`: the first one started (no file at the
# path yet) says it serves, then ends with status 3; every later one ends with status 4
# before it serves.
STAND_IN = textwrap.dedent("""
    import os, sys
    sys.stdin.buffer.read()
    path = sys.argv[1]
    if os.path.exists(path):
        sys.exit(4)
    open(path, "w").close()
    print("started", flush=True)
    sys.exit(3)
""")


def test_a_replacement_that_cannot_start_closes_its_socket_and_says_so(tmp_path, caplog):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    processes = RestProcesses(ServerOptions(model_base_path="/models/m"), [listening],
                              command=(sys.executable, "-c", STAND_IN, str(tmp_path / "once")))

    async def start_and_watch():
        await processes.start()
        first = processes.processes[0].pid
        await processes._watchers[0]  # ends once the replacement has failed
        return first

    with caplog.at_level(logging.ERROR, logger="tfgan.serving"):
        first = asyncio.run(start_and_watch())
    # Closed, the socket leaves the port: the kernel hands it no more connections.
    assert listening.fileno() == -1
    [record] = caplog.records
    assert record.getMessage().startswith(
        f"REST process {first} ended with status 3 and another could not take its place (")
    assert "ended with status 4 before it served" in record.getMessage()
