"""Real parts for the server tests: a saved model, a redis-server on a free port."""

from __future__ import annotations

from pathlib import Path

import pytest
from serve_helpers import small_model, start_redis


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve-model") / "model.rnnkit"
    small_model().save(path)
    return path


@pytest.fixture
def redis_url():
    """A real redis-server on a free loopback port (the Debian package; .ci/run installs it)."""
    started = start_redis("--save", "", "--appendonly", "no")
    if started is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    proc, url = started
    yield url
    proc.terminate()
    proc.wait(10)
