"""Fixtures shared by the crm tests."""

import pytest

from config.celery import app as celery_app


@pytest.fixture
def eager_tasks():
    """Celery runs tasks in-process: the trigger path (signal → on-commit → task → service) is exercised whole."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


class Receiver:
    """A local HTTP server in a thread: records every POST and answers with the next queued status (default 200).

    ``hold`` makes the next request wait until ``release`` is set (to catch a worker in the middle of a POST).
    """

    def __init__(self):
        import http.server
        import threading

        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.arrived = threading.Event()
        self.hold = False
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                receiver.arrived.set()
                if receiver.hold:
                    receiver.hold = False
                    receiver.release.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client is gone (a killed worker)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    """A webhook receiver on 127.0.0.1; private targets are allowed for the test that uses it."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def publish_to():
    """Make this process publish to ``queue`` (a queue of the test's own on the real broker)."""
    previous = celery_app.conf.task_default_queue
    names = []

    def use(queue: str) -> None:
        names.append(queue)
        celery_app.conf.task_default_queue = queue

    yield use
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def counted_queue(publish_to, settings):
    """Publish to a broker queue of the test's own that no worker reads, under an installation name of its own (its
    pending-run marks: config.coalesced); answers a function counting the tasks that reached it."""
    import uuid

    import redis

    name = uuid.uuid4().hex[:12]
    settings.SWITCHBOARD_INSTANCE = f"counted-{name}"
    queue = f"test-counted-{name}"
    publish_to(queue)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield lambda: client.llen(queue)
    client.delete(queue)
