"""Loopback ports for the servers the tests start, handed out without races.

A port found by binding to port 0 and closing the socket is only free *now*:
any later ``bind(("127.0.0.1", 0))`` in this or another process (a fake API
server, a stand-in Rasa, another xdist worker's CRM) may be given the same
port before the process meant for it binds. CI saw exactly that: the WeChat
gateway could not bind its port, the fake WeChat API had taken it, and the
health check answered from the wrong server.

So ports come from below the kernel's ephemeral range (which is what port 0
draws from), each xdist worker has its own block, each process starts at a
random place in its block and never hands out a port twice, and a port is
only handed out when nothing is bound to it. Standard library only: both
Python environments import it.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import threading
from pathlib import Path

_BLOCK = 800
_FIRST = 20000


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out for port 0 (32768 if unknown)."""
    try:
        low = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        return int(low)
    except (OSError, ValueError, IndexError):
        return 32768


def _block() -> range:
    """This process's block: one per xdist worker, the controller last."""
    match = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    blocks = max(1, (_ephemeral_floor() - _FIRST) // _BLOCK)
    index = int(match.group(1)) % (blocks - 1) if match and blocks > 1 else blocks - 1
    start = _FIRST + index * _BLOCK
    return range(start, start + _BLOCK)


_lock = threading.Lock()
_ports = _block()
_start = random.randrange(len(_ports))
_order = itertools.cycle([*_ports[_start:], *_ports[:_start]])
_given: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port no server holds and no other caller was given."""
    with _lock:
        for _ in range(len(_ports)):
            port = next(_order)
            if port not in _given and _bindable(port):
                _given.add(port)
                return port
    raise RuntimeError(f"no free port left in {_ports.start}–{_ports.stop - 1}")
