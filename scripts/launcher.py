"""What ``./switchboard`` does once it has a virtualenv. Standard library only: it runs before the requirements.

The commands (see USAGE):
    run                  install requirements if they changed, start the local stack if DATABASE_URL / REDIS_URL
                         are unset, migrate, load the demo data, then run web + worker + beat until Ctrl-C
    test [pytest args]   same bootstrap, then pytest (default ``-q``); exit 1 when no test ran
    stack up|down|status the local PostgreSQL + Redis under var/ (python -m config.localstack)
    manage <args>        manage.py with the same environment (e.g. ``manage createsuperuser``)
    setup                only install the requirements (CI uses it before its checks)
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

USAGE = """usage: ./switchboard <command>

  run                   start Switchboard: local PostgreSQL + Redis unless DATABASE_URL / REDIS_URL are set,
                        migrate, demo data, then web (http://127.0.0.1:${PORT:-8000}) + worker + beat until Ctrl-C
  test [pytest args]    run the test suite (default: -q); fails when no test ran
  stack up|down|status  the local PostgreSQL + Redis under var/ (data is kept between runs)
  manage <args>         manage.py with the same environment, e.g. ./switchboard manage createsuperuser
  setup                 only create .venv and install the requirements
"""
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
STAMP = Path(sys.prefix) / ".switchboard-requirements.sha256"
# Which environment variable each local-stack service stands in for.
STACK_SERVICES = {"postgres": "DATABASE_URL", "redis": "REDIS_URL"}
TRUE_VALUES = {"1", "true", "yes", "y", "on", "ok"}
SHUTDOWN_GRACE = 20.0


def say(message: str) -> None:
    print(f"switchboard: {message}", flush=True)


def fail(message: str, code: int = 1) -> int:
    print(f"switchboard: {message}", file=sys.stderr, flush=True)
    return code


# --- bootstrap ------------------------------------------------------------------------------------


def requirements_hash() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in REQUIREMENTS:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_requirements() -> None:
    """pip install the dev requirements, but only when they changed since the last install into this venv."""
    wanted = requirements_hash()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("installing requirements (requirements*.txt changed since the last install)...")
    if subprocess.run([PYTHON, "-m", "pip", "--version"], capture_output=True).returncode != 0:  # noqa: S603
        subprocess.run([PYTHON, "-m", "ensurepip", "--upgrade"], check=True)  # noqa: S603 - e.g. a venv made by uv
    result = subprocess.run(  # noqa: S603
        [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(ROOT / "requirements-dev.txt")],
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(fail("pip install -r requirements-dev.txt failed (see above)."))
    STAMP.write_text(wanted + "\n")


def var_dir() -> Path:
    path = Path(os.environ.get("SWITCHBOARD_VAR_DIR") or ROOT / "var").absolute()
    os.environ["SWITCHBOARD_VAR_DIR"] = str(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def localstack(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [PYTHON, "-m", "config.localstack", *args], cwd=ROOT, text=True, capture_output=capture
    )


def start_stack() -> list[str]:
    """Start the local servers for the unset URLs only; export their URLs; return the services this call started."""
    needed = [service for service, variable in STACK_SERVICES.items() if not os.environ.get(variable)]
    for service, variable in STACK_SERVICES.items():
        if service not in needed:
            say(f"{variable} is set: using it")
    if not needed:
        return []
    only = [arg for service in needed for arg in ("--only", service)]
    status = localstack("status", "--json", capture=True)
    if status.returncode != 0:
        raise SystemExit(fail(f"the local stack is unusable:\n{status.stderr.strip()}"))
    was_running = {name for name, info in json.loads(status.stdout).items() if info["running"]}
    result = localstack("up", "--json", *only, capture=True)
    if result.returncode != 0:
        stop_stack([service for service in needed if service not in was_running])  # e.g. Postgres up, Redis not
        raise SystemExit(fail(f"could not start the local stack:\n{result.stderr.strip()}"))
    lines = result.stdout.strip().splitlines()
    for line in lines[:-1]:  # notices, e.g. a remembered port that was taken
        print(line)
    answer = json.loads(lines[-1])
    for variable, url in answer["urls"].items():
        os.environ[variable] = url
        say(f"{variable}={url} (local stack in {os.environ['SWITCHBOARD_VAR_DIR']})")
    return answer["started"]


def stop_stack(started: list[str]) -> None:
    """Stop what this command started; a stack that was already up (``./switchboard stack up``) stays up."""
    if started:
        only = [arg for service in started for arg in ("--only", service)]
        localstack("down", *only, capture=True)
        say(f"stopped the local {' and '.join(started)}")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_VALUES


class Interrupted(Exception):
    pass


def raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


# --- run ------------------------------------------------------------------------------------------


def manage(*args: str) -> None:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(fail(f"manage.py {' '.join(args)} failed (exit {result.returncode})."))


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Process:
    """A child process whose output is relayed line by line with its name in front."""

    COLORS = ("36", "33", "35")

    def __init__(self, name: str, args: list[str], index: int):
        self.name = name
        # Own session: a Ctrl-C in the terminal reaches only the launcher, which then stops each child once.
        self.popen = subprocess.Popen(  # noqa: S603
            args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        color = sys.stdout.isatty() and self.COLORS[index % len(self.COLORS)]
        self.prefix = f"\033[{color}m{name:6} |\033[0m " if color else f"{name:6} | "
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def _relay(self) -> None:
        assert self.popen.stdout is not None
        for raw in iter(self.popen.stdout.readline, b""):
            sys.stdout.write(self.prefix + raw.decode(errors="replace"))
            sys.stdout.flush()

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signum)
            except ProcessLookupError:
                pass

    def kill_group(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_processes(port: int, var: Path) -> int:
    commands = {
        "web": [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                "--lifespan", "off", "--no-access-log"],  # ours: config.logs, secrets masked
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "info", "--schedule",
                 str(var / "celerybeat-schedule")],
    }  # fmt: skip
    received: list[int] = []

    def on_signal(signum, frame):
        received.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    processes = [Process(name, args, i) for i, (name, args) in enumerate(commands.items())]
    announced = False
    exit_code = 0
    try:
        while not received:
            dead = [p for p in processes if p.popen.poll() is not None]
            if dead:
                exit_code = fail(f"{dead[0].name} exited with code {dead[0].popen.returncode}; stopping the others.")
                break
            if not announced and port_answers(port):
                announced = True
                base = f"http://127.0.0.1:{port}"
                print(
                    "\nSwitchboard is running:\n"
                    f"  admin            {base}/admin/\n"
                    f"  API docs         {base}/api/docs/\n"
                    f"  OpenAPI schema   {base}/api/schema/\n"
                    "Processes: web (uvicorn), worker (celery), beat (celery beat). Press Ctrl-C to stop.\n",
                    flush=True,
                )
            time.sleep(0.2)
    finally:
        signum = received[0] if received else signal.SIGTERM
        say(f"stopping web, worker and beat ({signal.Signals(signum).name})...")
        for process in processes:
            process.signal(signum)
        deadline = time.monotonic() + SHUTDOWN_GRACE
        for process in processes:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{process.name} did not stop within {SHUTDOWN_GRACE:.0f}s; killing it")
            process.kill_group()  # also any orphaned children (celery's pool)
            process.thread.join(timeout=2)
    return exit_code


def seed_command_exists() -> bool:
    return any(ROOT.glob("*/management/commands/seed_demo.py"))


def cmd_run(args: list[str]) -> int:
    if args:
        return fail(f"run takes no arguments (got {' '.join(args)}); configure it with environment variables.", 2)
    os.environ.setdefault("DEBUG", "true")
    port = int(os.environ.get("PORT") or 8000)
    if not port_is_free(port):
        return fail(
            f"port {port} is already in use; stop what runs there or choose another: PORT=8001 ./switchboard run"
        )
    var = var_dir()
    signal.signal(signal.SIGTERM, raise_interrupted)
    started: list[str] = []
    try:
        started = start_stack()
        manage("migrate", "--noinput")
        if seed_command_exists():
            manage("seed_demo")
        else:
            say("manage.py seed_demo does not exist yet: no demo data loaded")
        if not env_flag("DEBUG"):
            manage("collectstatic", "--noinput")
        return run_processes(port, var)
    except (KeyboardInterrupt, Interrupted):
        return fail("interrupted", 130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_stack(started)


# --- test, stack, manage --------------------------------------------------------------------------


def run_child_until_done(args: list[str]) -> int:
    """Run a child in our process group (so pytest's --pdb keeps the terminal) and return its exit code.

    A terminal Ctrl-C reaches the child by itself; a SIGTERM sent to the launcher alone is passed on.
    """
    child = subprocess.Popen(args, cwd=ROOT)  # noqa: S603

    def on_signal(signum, frame):
        if signum == signal.SIGTERM and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return child.wait()


def default_test_args() -> list[str]:
    """The whole suite, quiet, spread over ``SWITCHBOARD_TEST_WORKERS`` pytest-xdist workers (default: the CPU
    count, at most 4: the suite's browser, mail and database tests gain nothing from more on a small machine).
    ``0`` runs it in this one process."""
    workers = os.environ.get("SWITCHBOARD_TEST_WORKERS") or str(min(os.cpu_count() or 1, 4))
    if not workers.isdigit():
        raise SystemExit(f"switchboard: SWITCHBOARD_TEST_WORKERS must be a number, not {workers!r}")
    return ["-q"] if workers == "0" else ["-q", "-n", workers]


def cmd_test(args: list[str]) -> int:
    var_dir()
    signal.signal(signal.SIGTERM, raise_interrupted)
    started: list[str] = []
    try:
        started = start_stack()
        code = run_child_until_done([PYTHON, "-m", "pytest", *(args or default_test_args())])
    except (KeyboardInterrupt, Interrupted):
        return fail("interrupted", 130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_stack(started)
    if code == 5:
        return fail("no test ran (pytest exit code 5): that counts as a failure.")
    return code


def cmd_manage(args: list[str]) -> int:
    os.environ.setdefault("DEBUG", "true")  # like run: a development command unless configured otherwise
    var_dir()
    signal.signal(signal.SIGTERM, raise_interrupted)
    started: list[str] = []
    try:
        started = start_stack()
        return run_child_until_done([PYTHON, "manage.py", *args])
    except (KeyboardInterrupt, Interrupted):
        return fail("interrupted", 130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_stack(started)


def cmd_stack(args: list[str]) -> int:
    if not args or args[0] not in {"up", "down", "status"}:
        return fail("usage: ./switchboard stack up|down|status [--json]", 2)
    var_dir()
    return localstack(*args).returncode


def load_env_file(path: Path) -> None:
    """``.env`` values the real environment lacks, set before the launcher's development defaults (DEBUG=true...),
    so ``DEBUG=false`` or ``DATABASE_URL`` written in ``.env`` win over them. The environment still wins over
    ``.env``. Plain ``KEY=value`` lines (optionally ``export``-prefixed, quoted); the settings re-read the file."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key.isidentifier():
            os.environ.setdefault(key, value)


def main(argv: list[str]) -> int:
    commands = {"run": cmd_run, "test": cmd_test, "stack": cmd_stack, "manage": cmd_manage, "setup": None}
    if not argv or argv[0] in {"-h", "--help", "help"} or argv[0] not in commands:
        print(USAGE)
        return 0 if argv and argv[0] in {"-h", "--help", "help"} else 2
    os.chdir(ROOT)
    load_env_file(ROOT / ".env")
    ensure_requirements()
    command = commands[argv[0]]
    if command is None:  # setup
        say(f"requirements installed in {sys.prefix}")
        return 0
    return command(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
