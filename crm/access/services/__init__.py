"""Creating, checking and revoking API keys; running a create once per ``Idempotency-Key``."""
