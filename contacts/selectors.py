"""Read queries over customers and organizations, for the API, the admin and other apps."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Lookup, Prefetch, Q, QuerySet

from .choices import IdentityChannel
from .models import ContactIdentity, Customer, Note, Organization
from .services import normalize_address

# Something a person types for a phone number: digits and the usual separators, at least 7 digits.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{7,}$")


class _ILikeContains(Lookup):
    """``column ILIKE '%value%'``.

    Django's ``icontains`` compiles to ``UPPER(column) LIKE UPPER(value)``, which the pg_trgm GIN indexes on
    name / email / phone cannot serve (they index the column, not its upper case); ILIKE can, so a search
    over a large directory is an index scan rather than a sequential one.
    """

    lookup_name = "ilike_contains"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [f"%{connection.ops.prep_for_like_query(value)}%"]

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} ILIKE {rhs_sql}", (*lhs_params, *rhs_params)


def _contains(field: str, value: str) -> Q:
    return Q(_ILikeContains(F(field), value))


def customer_search(queryset: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """Customers whose name, e-mail or phone contains ``q`` (any case), or who own ``q`` as an address.

    An e-mail or phone number is also normalised and matched exactly against every identity, so
    ``(415) 555-2671`` finds the customer stored as ``+14155552671`` and a secondary address finds its owner.
    """
    q = (q or "").replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if not q:
        return queryset
    condition = _contains("name", q) | _contains("email", q) | _contains("phone", q)
    # Chat ids and social handles are stored as given; e-mails and phones in their normalised form.
    addresses = Q(channel__in=[IdentityChannel.CHAT, IdentityChannel.SOCIAL], address=q)
    for kind, looks_like in ((IdentityChannel.EMAIL, "@" in q), (IdentityChannel.PHONE, bool(_PHONE_LIKE.match(q)))):
        if not looks_like:
            continue
        try:
            addresses |= Q(channel=kind, address=normalize_address(channel=kind, address=q))
        except ValidationError:
            if kind == IdentityChannel.PHONE:
                # A fragment such as "555-2671": match the digits inside stored E.164 numbers.
                condition |= _contains("phone", re.sub(r"\D", "", q))
    # The owners (at most one per channel, by the unique constraint) are looked up first and matched by id:
    # a correlated EXISTS inside the OR would stop PostgreSQL from combining the trigram indexes.
    owner_ids = list(ContactIdentity.objects.filter(addresses).values_list("customer_id", flat=True))
    if owner_ids:
        condition |= Q(pk__in=owner_ids)
    return queryset.filter(condition)


def _customer_base() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("channel", "-is_primary", "address"))
    )


def customer_list(
    *,
    q: str | None = None,
    organization_id: int | None = None,
    tier: str | None = None,
    tag: str | None = None,
    language: str | None = None,
    created_after: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
) -> QuerySet[Customer]:
    """Customers, newest first, with their identities prefetched (one query for any page size)."""
    customers = _customer_base()
    if q:
        customers = customer_search(customers, q)
    if organization_id is not None:
        customers = customers.filter(organization_id=organization_id)
    if tier:
        customers = customers.filter(tier=tier)
    if tag:
        customers = customers.filter(tags__contains=[tag])
    if language:
        customers = customers.filter(language__iexact=language)
    if created_after is not None:
        customers = customers.filter(created_at__gte=created_after)
    if created_before is not None:
        customers = customers.filter(created_at__lt=created_before)
    return customers.order_by("-id")


def customer_get(*, customer_id: int) -> Customer | None:
    """One customer with identities prefetched, or None."""
    return _customer_base().filter(pk=customer_id).first()


def customer_identities(*, customer: Customer) -> QuerySet[ContactIdentity]:
    return customer.identities.order_by("channel", "-is_primary", "address")


def customer_notes(*, customer: Customer) -> QuerySet[Note]:
    """A customer's notes, newest first, with their authors."""
    return Note.objects.filter(customer=customer).select_related("author").order_by("-created_at", "-id")


def organization_search(queryset: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    q = (q or "").replace("\x00", "").strip()
    if not q:
        return queryset
    return queryset.filter(_contains("name", q) | _contains("domain", q))


def organization_list(*, q: str | None = None) -> QuerySet[Organization]:
    """Organizations by name, each with how many customers it has."""
    organizations = Organization.objects.annotate(customer_count=Count("customers"))
    if q:
        organizations = organization_search(organizations, q)
    return organizations.order_by("name", "id")


def organization_get(*, organization_id: int) -> Organization | None:
    return organization_list().filter(pk=organization_id).first()
