"""Cursor pagination: stable under inserts and no whole-table COUNT on every page."""

import re

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination, strict about ``page_size``: outside 1..max it is a 400, as the schema says.

    (DRF's own falls back to the default size on a bad value, so ``page_size=false`` would look accepted.)
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max_page_size)s.") % {"max_page_size": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
