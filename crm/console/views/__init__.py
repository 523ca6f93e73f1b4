"""The agent console's pages: the home page and its htmx fragments (``home``), one interaction's page and its
actions (``interaction``)."""
