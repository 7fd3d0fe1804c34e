"""A seconds-long run of the failover check (``python -m bench.failover``, ``make failover``): two
gunicorn nodes behind HAProxy on a PostgreSQL cluster and a Redis of the run's own, six editors at
work, one node killed and started again. It checks the harness and the app together: acknowledged
writes are kept, sessions survive, the only 5xx are those in flight on the dead node.

Marked ``failover``: ``make test`` runs it once, on the PostgreSQL pass (the Makefile)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from bench.failover import HAPROXY, REDIS_SERVER, postgres_binaries
from tests.helpers import require_tool
from tracker.config import PROJECT_ROOT

pytestmark = pytest.mark.failover
#: 12 seconds, 6 editors; node a killed at 4 s and started again at 8 s
SMOKE = ["--seconds", "12", "--users", "6", "--kill-after", "4", "--restart-after", "8"]


def test_failover_keeps_every_acknowledged_write_and_every_session():
    require_tool("haproxy", shutil.which(HAPROXY) is not None, "apt-get install -y haproxy")
    require_tool("redis-server", shutil.which(REDIS_SERVER) is not None)
    require_tool("initdb", postgres_binaries() is not None, "the Debian package postgresql")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "bench.failover", "--json", *SMOKE],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-5000:]
    run = json.loads(result.stdout)
    figures, checks = run["figures"], run["checks"]
    assert figures["writes_acknowledged"] > 0, result.stderr[-3000:]
    for kind in ("save", "upload", "comment"):
        assert figures["per_kind"][kind]["writes_acknowledged"] > 0, kind
    assert figures["server_errors_other"] == 0, checks["server_errors"]["problems"]
    assert figures["down_after_kill_s"] is not None, figures["node_changes"]
    assert figures["up_after_restart_s"] is not None, figures["node_changes"]
    for name in ("writes", "server_errors", "sessions", "answers", "figures"):
        assert checks[name]["passed"], (name, checks[name]["problems"])
    assert checks["files"]["passed"], checks["files"]["problems"]
    assert figures["files_verified_on_both"] == figures["files_acknowledged"] > 0
    assert result.returncode == 0, result.stderr[-3000:]
