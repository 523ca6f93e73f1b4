"""API fixtures for the agents endpoints."""

import pytest

from crm.access.services.api_keys import api_key_create, api_key_revoke


@pytest.fixture
def revoked_client(key_client_factory):
    client = key_client_factory(["admin"])
    api_key_revoke(api_key=client.api_key)
    return client


@pytest.fixture
def bogus_client(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer sb_not-a-real-key")
    return api_client


@pytest.fixture
def team_a_admin_key(key_client_factory, team_a):
    """An admin key bound to team A: may manage team A, sees nothing of team B."""
    return key_client_factory(["admin"], team=team_a)


@pytest.fixture
def team_a_write_key(key_client_factory, team_a):
    return key_client_factory(["read", "write"], team=team_a)


@pytest.fixture
def make_key():
    return api_key_create
