"""The test suite's port allocator: no port twice, none a port-0 bind can take."""

from __future__ import annotations

import socket

from tests import ports


def test_ports_are_never_handed_out_twice_and_are_bindable() -> None:
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == 50
    for port in given:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_ports_lie_below_the_range_port_zero_draws_from() -> None:
    floor = ports._ephemeral_floor()
    taken = []
    try:
        for _ in range(20):  # servers binding port 0 while tests hold ports
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            taken.append(sock)
        drawn = {sock.getsockname()[1] for sock in taken}
        given = {ports.free_port() for _ in range(20)}
        assert max(given) < floor <= min(drawn)
        assert not given & drawn
    finally:
        for sock in taken:
            sock.close()


def test_a_port_someone_holds_is_skipped() -> None:
    port = ports.free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", port + 1))
        held.listen()
        nxt = ports.free_port()
    assert nxt != port + 1
