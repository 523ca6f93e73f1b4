"""Read queries of the crm app, gathered by concern (one module each) and re-exported here."""

from .interactions import *  # noqa: F403
