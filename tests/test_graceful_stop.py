"""SIGTERM lets a request in flight finish: uvicorn started with the flags of the Dockerfile's CMD."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent

SLOW_APP = """
import asyncio

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await asyncio.sleep(2 if scope["path"] == "/slow" else 0)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"finished " + scope["path"].encode()})
"""


def _dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", "")
    line = next(row for row in text.splitlines() if row.startswith("CMD "))
    return json.loads(line[4:])


def test_sigterm_during_a_slow_request_lets_it_finish(tmp_path):
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    cmd = _dockerfile_cmd()
    assert cmd[0] == "uvicorn" and "--timeout-graceful-shutdown" in cmd
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "slowapp:app"] + cmd[2:]
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    args[args.index("--workers") + 1] = "1"
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)

        result = {}
        thread = threading.Thread(
            target=lambda: result.update(response=httpx.get(f"http://127.0.0.1:{port}/slow", timeout=10))
        )
        thread.start()
        time.sleep(0.5)  # the request is in flight
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=15)

        assert result["response"].status_code == 200
        assert result["response"].text == "finished /slow"
        # it exits by itself after the request (recent uvicorn re-raises the signal once shut down: -15)
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)
        # and it stopped taking new connections
        try:
            httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
            raise AssertionError("a new request was served after SIGTERM")
        except httpx.TransportError:
            pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
