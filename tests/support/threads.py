"""Running test code in real threads at once, each on its own database connection."""

import threading
from collections.abc import Callable

from django.db import connection


def run_in_threads(*targets: Callable[[], object]) -> list[BaseException]:
    """Start every target in a thread of its own, wait for all, and return what they raised (for the test's thread to
    assert on). Each thread closes its database connection when done."""
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as error:  # noqa: BLE001  (reported to the caller)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
