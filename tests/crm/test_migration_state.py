"""Moving the models into per-concern modules changed no table: the migrations still describe the models."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db


def test_the_migrations_match_the_models():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:  # --check exits 1 when a migration would be written
        pytest.fail("makemigrations would write a migration:\n" + out.getvalue())
    assert "No changes detected" in out.getvalue()


def test_every_crm_model_keeps_its_app_label_and_table():
    migrated = {name for app_label, name in MigrationLoader(connection).project_state().models if app_label == "crm"}
    tables = {model.__name__.lower(): model._meta.db_table for model in apps.get_app_config("crm").get_models()}
    assert set(tables) == migrated
    assert all(table == f"crm_{name}" for name, table in tables.items())
    assert tables["interaction"] == "crm_interaction" and tables["slapolicy"] == "crm_slapolicy"
