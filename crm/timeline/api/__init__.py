"""The REST API of a customer's timeline (``/api/v1/customers/{id}/timeline/``)."""
