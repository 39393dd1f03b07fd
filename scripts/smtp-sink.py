"""A local SMTP sink for the browser tests: takes every message on
127.0.0.1 (aiosmtpd, from PyPI) and writes each to DIR as NNNN.eml.
Prints "port N" once it listens; runs until killed.

Usage: python smtp-sink.py DIR"""
import itertools
import os
import pathlib
import signal
import socket
import sys

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        name = self.folder / f"{next(self.count):04d}.eml"
        tmp = name.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        os.replace(tmp, name)
        return "250 kept"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


folder = sys.argv[1]
pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
controller = Controller(Keep(folder), hostname="127.0.0.1", port=free_port())
controller.start()
print(f"port {controller.port}", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
