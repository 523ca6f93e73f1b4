"""Temporary: removed in phase 2. The services moved into their concerns (``crm.<concern>.services``); the
modules left here only re-export them for the admin, API, console views and consumers, which move in phase 2."""
