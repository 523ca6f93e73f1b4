"""Celery messages that could not be processed, parked by ``config.tasks``. Imports no other crm concern."""
