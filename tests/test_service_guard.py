"""A test that needs a service skips only when it is absent, and never under CI."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import port_open, service_absent


def test_an_absent_service_skips_with_the_reason(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis is not running"):
        service_absent("Redis is not running")


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_under_ci_an_absent_service_fails(monkeypatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        service_absent("PostgreSQL is not running")


def test_port_open_tells_a_listening_port_from_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_open("127.0.0.1", port)
    assert not port_open("127.0.0.1", port, timeout=0.5)
