"""Hooks: a named, ordered list of handlers a lower layer calls and higher layers fill.

The way a core announces a change to the concerns that must act on it in the same transaction without
importing them (pretix's signals, Wagtail's hooks, but typed and explicit): the lower module declares the hook
with the signature its handlers must have and calls them where the change happens; each higher concern
registers its handlers from ``AppConfig.ready()``. Handlers run synchronously, in registration order, in the
caller's transaction; an exception propagates to the caller (and rolls the change back). What must wait for
the commit is sent by the handler itself with ``transaction.on_commit``.
"""

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

# a TypeVar, not PEP 695 syntax: the layout tools parse the project with older Pythons too
H = TypeVar("H", bound=Callable[..., Any])


class Hook(Generic[H]):  # noqa: UP046
    """One hook point: ``name`` and what it is for, and its handlers in the order they were registered."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._handlers: list[H] = []

    def register(self, handler: H) -> H:
        """Add ``handler`` (once: registering it again changes nothing, so a second ``ready()`` is harmless)."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    @property
    def handlers(self) -> tuple[H, ...]:
        return tuple(self._handlers)

    def __iter__(self) -> Iterator[H]:
        return iter(tuple(self._handlers))

    def __repr__(self) -> str:
        names = ", ".join(f"{h.__module__}.{h.__qualname__}" for h in self._handlers)
        return f"<Hook {self.name}: [{names}]>"
