"""The tests' own dovecot (``tests.support.dovecot``) gets two different ports, and starts on fresh ones when
another process took one of its ports between the choice and the start (what failed a CI run once: both
listeners on one port). ``tests.support.ports`` hands the ports out."""

import socket

import pytest

from tests.support import dovecot
from tests.support.ports import free_ports

from .conftest import _require_mail


def test_the_ports_of_one_call_all_differ():
    ports = free_ports(20)

    assert len(set(ports)) == 20


def test_dovecot_starts_on_fresh_ports_when_one_of_its_own_is_taken(certificate):
    if not dovecot.available():
        (pytest.fail if _require_mail() else pytest.skip)(dovecot.MISSING)
    if certificate is None:
        pytest.skip("openssl not found: the imaps listener needs a certificate")
    server = dovecot.Dovecot(certificate)
    assert server.port != server.tls_port
    taken = server.tls_port
    with socket.socket() as squatter:  # another process listening on the imaps port first
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        try:
            server.start()
            account = server.add_account()
            assert taken not in (server.port, server.tls_port)
            with account.client() as client:  # a real login on the new port
                assert client.noop()[0] == "OK"
        finally:
            server.stop()
