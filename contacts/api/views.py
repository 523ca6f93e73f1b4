"""Customers, their identities and notes, and organizations over REST.

Customers and organizations are the center's shared directory (``agents.access``): every authenticated
caller sees all of them, so these views narrow nothing by team; scopes still apply (read / write).
Views parse input, call one service, and render the result re-read through a selector.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from config.api.pagination import CursorPagination

from .. import selectors, services
from ..models import ContactIdentity, Customer, Note
from .base import ContactsViewSet
from .filters import CustomerFilter, OrganizationFilter
from .serializers import (
    CustomerCreateInputSerializer,
    CustomerInputSerializer,
    CustomerOutputSerializer,
    IdentityInputSerializer,
    IdentityOutputSerializer,
    NoteInputSerializer,
    NoteOutputSerializer,
    OrganizationInputSerializer,
    OrganizationOutputSerializer,
)

CUSTOMER_ID = OpenApiParameter("customer_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="customer id")
IDENTITY_ID = OpenApiParameter("identity_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="identity id")
# The schema class (config.api.schema) documents the errors every operation can give (400, 401, 403, 404,
# 413, 415); only what is particular to these resources is said here.
CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "Conflicts with existing data: an address or name already taken, as field messages "
        '(e.g. {"email": ["… already belongs to another customer."]}), or a refused deletion as {"detail": …}'
    ),
)


def _doc(summary: str, ok: int, body, *, conflict: bool = False, **kwargs):
    """``extend_schema`` with the success response, and this resource's 409 where a write can meet one."""
    responses = {ok: body, 409: CONFLICT} if conflict else {ok: body}
    return extend_schema(summary=summary, responses=responses, **kwargs)


def _author(request):
    """The person writing, or None for an integration's API key (which is not a user)."""
    user = request.user
    return user if getattr(user, "pk", None) is not None else None


@extend_schema_view(
    list=_doc("List customers", 200, CustomerOutputSerializer(many=True)),
    retrieve=_doc("Get a customer", 200, CustomerOutputSerializer),
    create=_doc(
        "Create a customer", 201, CustomerOutputSerializer, conflict=True, request=CustomerCreateInputSerializer
    ),
    update=_doc(
        "Replace a customer's fields",
        200,
        CustomerOutputSerializer,
        conflict=True,
        request=CustomerInputSerializer,
    ),
    partial_update=_doc(
        "Change some of a customer's fields",
        200,
        CustomerOutputSerializer,
        conflict=True,
        request=CustomerInputSerializer,
    ),
    destroy=_doc("Delete a customer (409 if they have interactions)", 204, None, conflict=True),
)
class CustomerViewSet(ContactsViewSet):
    """Customers: who the center serves, with the addresses (identities) by which inbound contacts find them."""

    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["id", "name", "created_at"]
    ordering = "-id"

    def get_queryset(self):
        return selectors.customer_list()

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CustomerOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(CustomerOutputSerializer(self.get_object()).data)

    def create(self, request):
        serializer = CustomerCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {"consent_source": "api", **serializer.validated_data}
        customer = services.customer_create(**data)
        output = CustomerOutputSerializer(selectors.customer_get(customer_id=customer.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        customer = self.get_object()
        serializer = CustomerInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.customer_update(customer=customer, **{"consent_source": "api", **serializer.validated_data})
        return Response(CustomerOutputSerializer(selectors.customer_get(customer_id=customer.pk)).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.customer_delete(customer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class _CustomerChildViewSet(ContactsViewSet):
    # Resources under /customers/{customer_id}/: the customer must exist (else 404).

    filter_backends: list = []

    def get_customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            self._customer = get_object_or_404(Customer.objects.all(), pk=self.kwargs["customer_id"])
        return self._customer


@extend_schema_view(
    list=_doc("List a customer's identities", 200, IdentityOutputSerializer(many=True), parameters=[CUSTOMER_ID]),
    create=_doc(
        "Add an identity to a customer",
        201,
        IdentityOutputSerializer,
        conflict=True,
        request=IdentityInputSerializer,
        parameters=[CUSTOMER_ID],
    ),
    destroy=_doc("Remove an identity from a customer", 204, None, parameters=[CUSTOMER_ID, IDENTITY_ID]),
)
class CustomerIdentityViewSet(_CustomerChildViewSet):
    """A customer's addresses. Adding the first e-mail or phone makes it the customer's primary one."""

    serializer_class = IdentityOutputSerializer
    queryset = ContactIdentity.objects.none()  # for the schema; requests use the customer's identities
    lookup_url_kwarg = "identity_id"
    pagination_class = None  # a customer has a handful of addresses

    def list(self, request, customer_id=None):
        identities = selectors.customer_identities(customer=self.get_customer())
        return Response(IdentityOutputSerializer(identities, many=True).data)

    def create(self, request, customer_id=None):
        serializer = IdentityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = services.identity_add(customer=self.get_customer(), **serializer.validated_data)
        return Response(IdentityOutputSerializer(identity).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, customer_id=None, identity_id=None):
        identity = get_object_or_404(ContactIdentity.objects.all(), customer=self.get_customer(), pk=identity_id)
        services.identity_remove(identity=identity)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _NewestFirstPagination(CursorPagination):
    # Fixed order: the customer list's ?ordering= fields mean nothing for notes.
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        return (self.ordering,)


@extend_schema_view(
    list=_doc("List a customer's notes, newest first", 200, NoteOutputSerializer(many=True), parameters=[CUSTOMER_ID]),
    create=_doc(
        "Keep a note on a customer",
        201,
        NoteOutputSerializer,
        request=NoteInputSerializer,
        parameters=[CUSTOMER_ID],
    ),
)
class CustomerNoteViewSet(_CustomerChildViewSet):
    """Notes agents and integrations keep on a customer."""

    serializer_class = NoteOutputSerializer
    queryset = Note.objects.none()  # for the schema; requests use the customer's notes
    pagination_class = _NewestFirstPagination

    def list(self, request, customer_id=None):
        page = self.paginate_queryset(selectors.customer_notes(customer=self.get_customer()))
        return self.get_paginated_response(NoteOutputSerializer(page, many=True).data)

    def create(self, request, customer_id=None):
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_create(customer=self.get_customer(), author=_author(request), **serializer.validated_data)
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=_doc("List organizations", 200, OrganizationOutputSerializer(many=True)),
    retrieve=_doc("Get an organization", 200, OrganizationOutputSerializer),
    create=_doc(
        "Create an organization",
        201,
        OrganizationOutputSerializer,
        conflict=True,
        request=OrganizationInputSerializer,
    ),
    update=_doc(
        "Replace an organization's fields",
        200,
        OrganizationOutputSerializer,
        conflict=True,
        request=OrganizationInputSerializer,
    ),
    partial_update=_doc(
        "Change some of an organization's fields",
        200,
        OrganizationOutputSerializer,
        conflict=True,
        request=OrganizationInputSerializer,
    ),
    destroy=_doc("Delete an organization (its customers stay)", 204, None),
)
class OrganizationViewSet(ContactsViewSet):
    """Organizations (B2B accounts) customers belong to; names are unique regardless of case."""

    serializer_class = OrganizationOutputSerializer
    filterset_class = OrganizationFilter
    ordering_fields = ["id", "name", "created_at"]
    ordering = "-id"

    def get_queryset(self):
        return selectors.organization_list()

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrganizationOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(OrganizationOutputSerializer(self.get_object()).data)

    def create(self, request):
        serializer = OrganizationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(**serializer.validated_data)
        output = OrganizationOutputSerializer(selectors.organization_get(organization_id=organization.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        organization = self.get_object()
        serializer = OrganizationInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.organization_update(organization=organization, **serializer.validated_data)
        output = OrganizationOutputSerializer(selectors.organization_get(organization_id=organization.pk))
        return Response(output.data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.organization_delete(organization=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
