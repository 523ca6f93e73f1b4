"""The agent console at ``/console/``: its pages (``views/``), forms, urls and the reads behind them.

May import every concern below it (interactions, routing, timeline, quality…); only ``crm.demo`` sits above it.
"""
