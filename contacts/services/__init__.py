"""Actions that change customers, their identities and notes, and organizations.

Every value is checked here (``contacts.validation``), whoever calls: a bad value raises Django's
``ValidationError`` keyed by the caller's field name (``email``, ``phone``, ``identities``, ``tags``…),
which the API answers with 400 and field messages. ``Customer.email`` / ``Customer.phone`` mirror the
customer's primary e-mail / phone identity; only these services write either side, so they stay in step.
"""

from ._base import DUPLICATE, MIRROR_FIELD
from .customers import (
    CUSTOMER_FIELDS,
    customer_create,
    customer_delete,
    customer_update,
)
from .first_contact import customer_find_or_create_by_identity
from .identities import (
    identity_add,
    identity_channel_for,
    identity_mark_deliverable,
    identity_mark_undeliverable,
    identity_remove,
    identity_update,
    normalize_address,
)
from .notes import note_create
from .organizations import ORGANIZATION_FIELDS, organization_create, organization_delete, organization_update

__all__ = [
    "CUSTOMER_FIELDS",
    "DUPLICATE",
    "MIRROR_FIELD",
    "ORGANIZATION_FIELDS",
    "customer_create",
    "customer_delete",
    "customer_find_or_create_by_identity",
    "customer_update",
    "identity_add",
    "identity_channel_for",
    "identity_mark_deliverable",
    "identity_mark_undeliverable",
    "identity_remove",
    "identity_update",
    "normalize_address",
    "note_create",
    "organization_create",
    "organization_delete",
    "organization_update",
]
