"""The production topology of compose.yaml with real processes: nginx with docker/nginx/switchboard.conf.template
in front, HTTP to granian (config.wsgi) and websockets to uvicorn (config.asgi), on this test's database.

Skipped where nginx is missing (``apt-get install nginx-light``), except with ``SWITCHBOARD_REQUIRE_PROXY=1`` (CI),
where that fails.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from string import Template

import httpx
import pytest
import websockets
from django.conf import settings
from django.db import connection
from django.test import Client

from agents.models import AuditEntry
from crm.access.services.api_keys import api_key_create
from tests.agents.factories import AgentFactory, UserFactory
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "docker" / "nginx" / "switchboard.conf.template"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def _nginx_present():
    if NGINX is None:
        if os.environ.get("SWITCHBOARD_REQUIRE_PROXY") == "1":
            pytest.fail("nginx is not installed, and SWITCHBOARD_REQUIRE_PROXY=1 requires it")
        pytest.skip("nginx is not installed (apt-get install nginx-light; CI requires it: SWITCHBOARD_REQUIRE_PROXY=1)")


def _wait_http(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited: {process.stdout.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not answer {url} within 30 s")


@contextmanager
def _running(command: list[str], *, env: dict, health: str, what: str, cwd: Path = ROOT):
    process = subprocess.Popen(  # noqa: S603 - our own servers, on loopback
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_http(health, process, what)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _nginx_conf(tmp_path: Path, *, port: int, web: int, ws: int) -> Path:
    """The template rendered as the nginx image's envsubst does, inside a minimal main configuration that runs
    unprivileged in ``tmp_path``."""
    server = Template(TEMPLATE.read_text()).safe_substitute(
        SWITCHBOARD_WEB_UPSTREAM=f"127.0.0.1:{web}",
        SWITCHBOARD_WS_UPSTREAM=f"127.0.0.1:{ws}",
        SWITCHBOARD_PROXY_PORT=port,
    )
    assert "${SWITCHBOARD" not in server
    (tmp_path / "switchboard.conf").write_text(server)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/switchboard.conf;
}}
"""
    )
    return main


def _server_env() -> dict[str, str]:
    s = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


async def _console_snapshot(url: str, *, cookie: str, origin: str) -> dict:
    async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=origin, open_timeout=10) as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))


def test_http_goes_to_granian_and_websockets_to_uvicorn_through_nginx(tmp_path):
    user = UserFactory(username="ana")
    agent = AgentFactory(user=user, name="Ana Agent")
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    _, key = api_key_create(name="proxy test", scopes=["read", "write"])

    env = _server_env()
    web, ws, port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    granian = [sys.executable, "-m", "granian", "--interface", "wsgi", "config.wsgi:application", "--host", "127.0.0.1",
               "--port", str(web), "--workers", "1", "--blocking-threads", "2", "--no-ws", "--log-level", "warning"]  # fmt: skip
    uvicorn = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(ws),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    conf = _nginx_conf(tmp_path, port=port, web=web, ws=ws)
    nginx = [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"]

    with (
        _running(granian, env=env, health=f"http://127.0.0.1:{web}/healthz", what="granian"),
        _running(nginx, env=env, health=f"{base}/healthz", what="nginx"),
    ):
        with _running(uvicorn, env=env, health=f"http://127.0.0.1:{ws}/healthz", what="uvicorn") as asgi:
            # a console's socket, upgraded through nginx to uvicorn, with the browser's session cookie
            snapshot = asyncio.run(_console_snapshot(f"ws://127.0.0.1:{port}/ws/console/", cookie=cookie, origin=base))
            assert snapshot["type"] == "snapshot" and snapshot["data"]["agent"]["name"] == "Ana Agent"
            asgi.terminate()
            asgi.wait(timeout=15)

        # with uvicorn gone, HTTP still works: nginx sends it to granian
        created = httpx.post(
            f"{base}/api/v1/interactions/",
            json={"channel": "chat", "customer_identity": {"channel": "email", "address": "proxy@example.com"}},
            headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "203.0.113.9"},
            timeout=15,
        )
        assert created.status_code == 201, created.text
        assert created.json()["customer"] is not None
        read = httpx.get(
            f"{base}/api/v1/interactions/{created.json()['id']}/", headers={"Authorization": f"Bearer {key}"}
        )
        assert read.status_code == 200 and read.json()["customer"] == created.json()["customer"]
        # the audit log names the address nginx saw, not the one the client claimed in X-Forwarded-For
        entry = AuditEntry.objects.filter(object_id=str(created.json()["id"])).first()
        assert entry is not None and entry.client_ip == "127.0.0.1"
        # and websockets do not: the web role (--no-ws) never upgrades them
        with pytest.raises(websockets.exceptions.InvalidStatus):
            asyncio.run(_console_snapshot(f"ws://127.0.0.1:{port}/ws/console/", cookie=cookie, origin=base))
    assert agent.pk


def test_the_proxy_lets_a_raw_email_as_large_as_the_apps_limit_through():
    # nginx must not refuse with its own 413 what the app accepts (SWITCHBOARD_EMAIL_MAX_BYTES)
    text = TEMPLATE.read_text()
    size = next(line.split()[1].rstrip(";") for line in text.splitlines() if line.strip().startswith("client_max_body"))
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 > settings.SWITCHBOARD_EMAIL_MAX_BYTES
