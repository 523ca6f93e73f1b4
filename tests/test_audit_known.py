"""The audit trail diffs a row locked and read just before against the values read (``config.audit.known``):
no second read of the row, the same entry as with one, and no stale values on a later save."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from config.audit import audit_context, audit_known_before, audit_row_read
from crm.choices import InteractionStatus, Priority
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def _reads_of_the_row(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "crm_interaction"."priority"')]


def test_a_save_with_the_row_as_locked_writes_the_same_entry_without_reading_the_row_again():
    interaction = InteractionFactory(priority=Priority.NORMAL, subject="Order 5")
    ContentType.objects.get_for_model(Interaction)  # cached for the process, as in a served request
    with audit_context(source="system", actor="test"), transaction.atomic():
        # with what the entry's team is found through joined, as the message service does
        locked = (
            Interaction.objects.select_for_update(of=("self",)).select_related("agent", "queue").get(pk=interaction.pk)
        )
        read = audit_row_read(locked)
        locked.priority = Priority.HIGH
        with CaptureQueriesContext(connection) as captured, audit_known_before(locked, read):
            locked.save(update_fields=["priority"])
    assert not _reads_of_the_row(captured), captured.captured_queries
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["UPDATE", "INSERT"], [
        q["sql"][:150] for q in captured.captured_queries
    ]
    entry = AuditEntry.objects.get(object_id=str(interaction.pk), action="update")
    assert entry.changes == {"priority": [Priority.NORMAL, Priority.HIGH]}


def test_without_the_row_the_old_values_are_read_as_before():
    interaction = InteractionFactory(priority=Priority.NORMAL)
    with audit_context(source="system", actor="test"), transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        locked.priority = Priority.HIGH
        with CaptureQueriesContext(connection) as captured:
            locked.save(update_fields=["priority"])
    assert len(_reads_of_the_row(captured)) == 1
    assert AuditEntry.objects.get(action="update").changes == {"priority": [Priority.NORMAL, Priority.HIGH]}


def test_the_row_serves_one_save_only_and_a_change_made_in_place_is_still_a_change():
    interaction = InteractionFactory(priority=Priority.NORMAL, tags=["vip"])
    with audit_context(source="system", actor="test"), transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        read = audit_row_read(locked)
        locked.tags.append("late")  # in place: the values read were copied
        with audit_known_before(locked, read):
            locked.save(update_fields=["tags"])
        # changed in the database behind this instance's back: the next save reads the row again
        Interaction.objects.filter(pk=interaction.pk).update(priority=Priority.URGENT)
        locked.priority = Priority.HIGH
        locked.save(update_fields=["priority"])
    first, second = AuditEntry.objects.filter(action="update").order_by("id")
    assert first.changes == {"tags": "changed"}  # customer data: named, never stored
    assert second.changes == {"priority": [Priority.URGENT, Priority.HIGH]}


def test_outside_an_audit_context_nothing_is_copied_and_the_save_records_nothing():
    interaction = InteractionFactory()
    locked = Interaction.objects.get(pk=interaction.pk)
    assert audit_row_read(locked) is None
    locked.priority = Priority.HIGH
    with audit_known_before(locked, None):
        locked.save(update_fields=["priority"])
    assert not AuditEntry.objects.exists()


def test_a_status_move_records_old_and_new_status_without_reading_the_row_again():
    interaction = InteractionFactory()
    assert interaction.status == InteractionStatus.QUEUED
    ContentType.objects.get_for_model(Interaction)
    with audit_context(source="system", actor="test"), CaptureQueriesContext(connection) as captured:
        lifecycle.interaction_abandon(interaction=interaction)
    old_values_reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "crm_interaction"."status"') and q["sql"].endswith("LIMIT 1")
    ]
    assert not old_values_reads, old_values_reads
    entry = AuditEntry.objects.get(object_id=str(interaction.pk), action="update")
    assert entry.changes["status"] == [InteractionStatus.QUEUED, InteractionStatus.ABANDONED]


def test_a_field_update_records_old_and_new_values_without_reading_the_row_again():
    # the API's PATCH (subject, priority, tags, category) locks and saves as a status move does
    interaction = InteractionFactory(priority=Priority.NORMAL, subject="Printer")
    ContentType.objects.get_for_model(Interaction)
    with audit_context(source="system", actor="test"), CaptureQueriesContext(connection) as captured:
        lifecycle.interaction_update(interaction=interaction, priority=Priority.URGENT, subject="Printer on fire")
    # the lock's own read (config.raw_rows.LockedRow) is the only one: no ORM read of the old values after it
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "crm_interaction".')]
    assert not reads, reads
    entry = AuditEntry.objects.get(object_id=str(interaction.pk), action="update")
    assert entry.changes["priority"] == [Priority.NORMAL, Priority.URGENT]
    assert entry.changes["subject"] == "changed"  # personal text: the trail says it changed, not to what
    assert Interaction.objects.get(pk=interaction.pk).subject == "Printer on fire"
