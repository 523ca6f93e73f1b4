"""What every contacts API view shares."""

from rest_framework import viewsets


class ContactsViewSet(viewsets.GenericViewSet):
    # Ids are matched loosely so that any malformed id ("1.5", "abc") is this API's JSON 404, not Django's page.
    lookup_value_regex = "[^/]+"
