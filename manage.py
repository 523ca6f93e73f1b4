#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    # .env first (the environment still wins over it), so the development default below never overrides it
    env_file = Path(__file__).resolve().parent / ".env"
    if env_file.is_file():
        import environ

        environ.Env.read_env(env_file, overwrite=False)
    # A shell with no configuration at all is a developer's: run in development mode rather than refuse
    # (production always sets SECRET_KEY, so there DEBUG stays off unless asked for).
    if "SECRET_KEY" not in os.environ and "DEBUG" not in os.environ:
        os.environ["DEBUG"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
