from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.access.models import ApiKey
from crm.access.services.api_keys import api_key_authenticate, api_key_create
from tests.agents.factories import TeamFactory

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_a_working_key_once_with_a_warning():
    lines = run("create_api_key", "--name", "PBX connector", "--scopes", "read, write")

    raw = lines[0]
    key = api_key_authenticate(raw_key=raw)
    assert key is not None and key.name == "PBX connector" and key.scopes == ["read", "write"]
    assert key.hashed_key != raw and raw not in key.hashed_key
    assert "will not be shown again" in lines[-1]
    assert sum(raw in line for line in lines) == 1


@pytest.mark.parametrize("team_arg", ["ID", "support desk"])
def test_binds_the_key_to_a_team_by_id_or_name(team_arg):
    team = TeamFactory(name="Support Desk")

    lines = run(
        "create_api_key", "--name", "x", "--scopes", "read", "--team", str(team.pk) if team_arg == "ID" else team_arg
    )

    assert api_key_authenticate(raw_key=lines[0]).team == team
    assert "team Support Desk" in lines[1]


def test_expiry_in_days():
    lines = run("create_api_key", "--name", "x", "--scopes", "admin", "--expires-in-days", "30")

    key = ApiKey.objects.get()
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    assert "expires" in lines[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "read,root"], "unknown: root"),
        (["--scopes", ","], "--scopes must list"),
        (["--scopes", "read", "--team", "Nobody"], "No team"),
        (["--scopes", "read", "--team", "99999999999999999999999"], "No team"),
        (["--scopes", "read", "--expires-in-days", "0"], "--expires-in-days"),
    ],
)
def test_bad_arguments_are_a_clear_error_and_create_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", "--name", "x", *args)

    assert not ApiKey.objects.exists()


def test_blank_name_is_refused():
    with pytest.raises(CommandError, match="name"):
        run("create_api_key", "--name", "  ", "--scopes", "read")


def test_revoke_by_prefix_stops_the_key():
    key, raw = api_key_create(name="old", scopes=["read"])

    lines = run("revoke_api_key", key.prefix)

    assert "Revoked" in lines[0]
    assert api_key_authenticate(raw_key=raw) is None
    assert "already revoked" in run("revoke_api_key", raw)[0]


def test_revoke_unknown_prefix_is_an_error():
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_key", "sb_nothere")
