"""Settings written in .env win over the launcher's development defaults; the real environment wins over .env."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _launcher():
    spec = importlib.util.spec_from_file_location("switchboard_launcher", ROOT / "scripts" / "launcher.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_file_debug_false_beats_the_launchers_debug_default(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("# comment\nDEBUG=false\nexport PORT=\"8123\"\nSECRET_KEY='from-env-file'\n")
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")

    _launcher().load_env_file(tmp_path / ".env")
    os.environ.setdefault("DEBUG", "true")  # what `./switchboard run` and `manage` do next

    assert os.environ["DEBUG"] == "false"
    assert os.environ["PORT"] == "8123"
    assert os.environ["SECRET_KEY"] == "from-the-environment"


def test_manage_py_reads_env_file_before_its_debug_default(tmp_path):
    (tmp_path / "manage.py").write_text((ROOT / "manage.py").read_text())
    (tmp_path / ".env").write_text("DEBUG=false\nSECRET_KEY=a-real-production-key-from-dotenv\n")
    (tmp_path / "show.py").write_text(
        "import os, runpy, sys\n"
        "sys.argv = ['manage.py', 'version']\n"
        "import django.core.management as m\n"
        "m.execute_from_command_line = lambda argv: print(os.environ.get('DEBUG'), os.environ.get('SECRET_KEY'))\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "show.py"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["false", "a-real-production-key-from-dotenv"]
