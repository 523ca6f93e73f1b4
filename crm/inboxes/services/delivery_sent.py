"""The in-request send's success as one statement (``crm.inboxes.services.delivery._record_sent``).

A chat reply's delivery was written claimed in the reply's transaction and sent right after its commit; its outcome
was a transaction of four statements (BEGIN, the delivery, its message, COMMIT). Both rows change in one
data-modifying ``WITH`` instead, atomic as any single statement: the message changes only when the delivery was
still pending, and no row back means an outcome was recorded already.
"""

from __future__ import annotations

from crm.choices import DeliveryStatus as D
from crm.interactions.models import Message

from ..models import Delivery


def sent_sql(delivery: Delivery, *, external_id: str | None) -> tuple[str, list]:
    """``delivery`` (its outcome fields set) marked sent ``WHERE status = 'pending'``, and its message with it:
    ``delivery_status`` and, when not None, ``external_id``. The statement and its parameters; one row back when
    it changed them."""
    deliveries, messages = Delivery._meta.db_table, Message._meta.db_table  # names from the models, values as params
    also = ", external_id = %s" if external_id is not None else ""
    sql = f"""
WITH sent AS (
    UPDATE {deliveries} SET status = %s, error = %s, leased_until = NULL, provider_id = %s, sent_at = %s
    WHERE id = %s AND status = %s RETURNING message_id
)
UPDATE {messages} SET delivery_status = %s{also} FROM sent WHERE {messages}.id = sent.message_id
RETURNING {messages}.id
"""  # noqa: S608
    params = [D.SENT, delivery.error, delivery.provider_id, delivery.sent_at, delivery.pk, D.PENDING, D.SENT]
    return sql, params + ([external_id] if external_id is not None else [])
