"""The loaded project kept out of the garbage collector's full passes.

A full (oldest-generation) collection walks every object the collector tracks. Once Django, DRF, Channels and our
apps are imported, a process holds some 120,000 of them (modules, settings, URL patterns, model and serializer
classes) that live as long as the process; walking them took 23–31 ms here, a pause every thread of the process
waits out, several times a minute under load. ``gc.freeze()`` moves what exists now to the collector's permanent
generation: later collections skip it, and garbage made while serving is still collected as before.
"""

import gc


def freeze_loaded_project() -> None:
    """Collect what loading left behind, then freeze the rest (call once the application is built)."""
    gc.collect()
    gc.freeze()
