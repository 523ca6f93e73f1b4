"""REST API of data protection: exports and erasures of one customer (admin scope, unrestricted callers)."""
