"""Real parts for the server tests: a saved model, a redis-server on a free port."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from serve_helpers import free_port, small_model


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve-model") / "model.rnnkit"
    small_model().save(path)
    return path


@pytest.fixture
def redis_url():
    """A real redis-server on a free loopback port (the Debian package; .ci/run installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    proc.terminate()
    proc.wait(10)
