"""What changes inboxes and what goes through them; one module per part (``inboxes``: the inboxes themselves)."""
