"""Errors that services raise; the API turns them into 409 responses (403 for ``NotAllowed``) with their message."""


class DomainError(Exception):
    """A request that is well-formed but not allowed in the current state (maps to HTTP 409)."""

    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class IllegalTransition(DomainError):
    """A status change that the lifecycle does not allow, e.g. resolving a closed interaction."""

    code = "illegal_transition"


class NotAllowed(DomainError):
    """This actor may not do this to this object, whatever its state (HTTP 403), e.g. approving one's own break.

    A ``DomainError`` still, so every caller that shows a service's refusal (admin actions, the console) shows
    this one's message too.
    """

    code = "not_allowed"


# The code of a Django ValidationError raised because a value is already taken (an address, a name).
# The API answers it with 409 and the field messages (config.api.exceptions).
DUPLICATE = "duplicate"
