"""/metrics counts open websockets by kind: one more while a console is open, back when it closes."""

import pytest
from prometheus_client import REGISTRY

from tests.agents.factories import AgentFactory

from .conftest import connect, db, run

pytestmark = pytest.mark.django_db(transaction=True)


def _open(kind: str) -> float:
    return REGISTRY.get_sample_value("switchboard_websockets_open", {"socket": kind}) or 0.0


def test_an_open_console_is_counted_until_it_closes():
    async def scenario():
        agent = await db(AgentFactory)()
        before = _open("console")
        socket, _snapshot = await connect("/ws/console/", agent.user)
        during = _open("console")
        await socket.disconnect()
        return before, during, _open("console")

    before, during, after = run(scenario)

    assert during == before + 1
    assert after == before
    assert _open("wallboard") >= 0
