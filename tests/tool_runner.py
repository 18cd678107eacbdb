# Copyright (c) glore_mm contributors. All rights reserved.
"""Helpers of the end-to-end tests that run the real tools as subprocesses."""
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools'
TIMEOUT = 600


def tool_env(**extra: str) -> Dict[str, str]:
    """The environment of a tool: glore_mm importable, no stray ranks.

    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is dropped too, so the tools load
    checkpoints through glore_mm's allowlist, as a user's would.
    """
    env = {
        k: v
        for k, v in os.environ.items() if k not in {
            'RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT',
            'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
        }
    }
    env['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get('PYTHONPATH')]))
    env['PYTHON'] = sys.executable
    env.update(extra)
    return env


def run_tool(cmd: List,
             cwd: Path,
             env: Optional[Dict[str, str]] = None,
             ok: bool = True) -> subprocess.CompletedProcess:
    """Run ``cmd``; if ``ok``, fail the test with its output on an error."""
    result = subprocess.run([str(c) for c in cmd],
                            cwd=cwd,
                            env=env or tool_env(),
                            capture_output=True,
                            text=True,
                            timeout=TIMEOUT)
    if ok and result.returncode != 0:
        pytest.fail(f'{cmd} exited with {result.returncode}\n'
                    f'--- stdout (tail) ---\n{result.stdout[-4000:]}\n'
                    f'--- stderr (tail) ---\n{result.stderr[-4000:]}')
    return result


def free_port() -> str:
    """A TCP port that was free a moment ago, for a rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


def log_text(work_dir: Path) -> str:
    """The log file(s) mmengine wrote in ``work_dir/<timestamp>/``."""
    logs = sorted(work_dir.glob('*/*.log'))
    assert logs, f'no log file under {work_dir}'
    return '\n'.join(log.read_text() for log in logs)
