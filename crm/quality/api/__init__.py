"""The REST API of quality, read-only: reviews (``/api/v1/reviews/``) and canned responses
(``/api/v1/canned-responses/``)."""
