"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``. Without it the browser
tests skip, except when ``SWITCHBOARD_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not found: apt-get install -y chromium (browser tests are mandatory in CI)"


def _chromium_path() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if os.environ.get("SWITCHBOARD_REQUIRE_BROWSER") == "1":
        pytest.fail(CHROMIUM_MISSING)
    pytest.skip(CHROMIUM_MISSING)


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright():
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django's async-safety check
    # would refuse the ORM calls of the db fixtures. Lifted only while this module's browser is open.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_allow_orm_beside_playwright):
    from playwright.sync_api import sync_playwright

    executable = _chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser context (no cookies) per test; the live server sees committed data (transactional_db)."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def asgi_live_server(transactional_db, _allow_orm_beside_playwright, settings):
    """The whole ASGI application (HTTP and websockets) under uvicorn, in a thread of this test process.

    pytest-django's ``live_server`` is WSGI and cannot serve websockets. Running uvicorn in-process (rather
    than as a subprocess) makes it use the test database, and lets the test switch Celery to eager mode.
    The channel layer gets a prefix of its own per xdist worker: two workers' test databases hand out the
    same ids, and their groups (``agent.3``) must not meet in the shared Redis database.
    Yields the base URL, e.g. ``http://127.0.0.1:41234``.
    """
    import copy
    import socket
    import threading
    import time

    import uvicorn
    from django.db import connections

    from config.asgi import application

    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"switchboard-browser-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    settings.CHANNEL_LAYERS = layers  # channels drops its cached layers when this setting changes

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning", ws="websockets-sansio", ws_ping_interval=None)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="asgi-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the ASGI live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    # Django's per-thread connections of the server's worker threads end with their requests; this thread's
    # own are closed so that the test database can be flushed and dropped.
    connections.close_all()


@pytest.fixture
def eager_celery():
    """Celery runs tasks in-process, so routing happens inside the request that queued the work (no worker)."""
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def asgi_context_factory(browser, asgi_live_server):
    """New browser contexts (each its own cookies: one per person in the scenario) against the ASGI server."""
    contexts = []

    def make(**options):  # e.g. locale="de-DE": the browser's language (navigator.language, Accept-Language)
        context = browser.new_context(base_url=asgi_live_server, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
