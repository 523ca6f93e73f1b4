"""Test settings: production settings with only what makes tests fast changed."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijklmnop")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests open connections from threads (concurrency tests); keep the pool small and bounded.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# collectstatic does not run before tests: find static files per request instead of warning that STATIC_ROOT is missing.
WHITENOISE_AUTOREFRESH = True
# Queue figures follow their events at once, in the test's thread (which sees its own uncommitted rows); the
# coalescing delay of production is tested on its own (tests/crm/live/test_queue_stats.py).
SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS = 0.0
