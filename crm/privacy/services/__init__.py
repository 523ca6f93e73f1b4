"""Writes of the data-protection concern: exports (``export``) and erasures (``erase``)."""
