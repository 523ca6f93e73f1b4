"""Celery messages that could not be processed, parked by ``config.tasks``, and their admin.
Imports no other crm concern."""
