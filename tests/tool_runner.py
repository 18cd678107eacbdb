# Copyright (c) glore_mm contributors. All rights reserved.
"""How the tests run the tools, demos and development scripts: as a user
does, each in a fresh process, in the foreground or in the background."""
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess, Popen, TimeoutExpired
from typing import Callable, Dict, Iterator, List, Optional

import pytest

__all__ = [
    'REPO', 'TOOLS', 'TIMEOUT', 'CompletedProcess', 'Popen', 'TimeoutExpired',
    'tool_env', 'run_tool', 'start_tool', 'wait_for', 'free_port', 'log_text'
]

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / 'tools'
TIMEOUT = 600


def tool_env(**extra: str) -> Dict[str, str]:
    """The environment of a tool: glore_mm importable, no stray ranks.

    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is dropped too, so the tools load
    checkpoints through glore_mm's allowlist, as a user's would. The
    repository root leads ``PYTHONPATH``, so code run with ``python -c``
    imports the test helpers as ``tests.<module>``.
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
             ok: bool = True,
             merge_output: bool = False) -> CompletedProcess:
    """Run ``cmd`` to its end and return what it printed.

    Args:
        cmd (list): The command; its items are turned into strings.
        cwd (Path): Its working directory.
        env (dict, optional): Its environment. Defaults to
            :func:`tool_env`.
        ok (bool): Fail the test, with the command's output, if it exits
            with an error. Defaults to True.
        merge_output (bool): Send stderr into stdout, so that the lines of
            both come in the order they were written (``stderr`` is then
            None). Defaults to False.
    """
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env or tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
        text=True,
        timeout=TIMEOUT)
    if ok and result.returncode != 0:
        pytest.fail(f'{cmd} exited with {result.returncode}\n'
                    f'--- stdout (tail) ---\n{result.stdout[-4000:]}\n'
                    f'--- stderr (tail) ---\n{(result.stderr or "")[-4000:]}')
    return result


@contextmanager
def start_tool(cmd: List,
               cwd: Path,
               log: Path,
               env: Optional[Dict[str, str]] = None) -> Iterator[Popen]:
    """Run ``cmd`` in the background while the ``with`` block runs.

    Its stdout and stderr go, unbuffered, to the file ``log``, which the
    block may read while the process runs. On leaving the block a process
    still running is killed; either way it is waited for, so no process of
    a test outlives it.

    Args:
        cmd (list): The command; its items are turned into strings.
        cwd (Path): Its working directory.
        log (Path): File for its output (overwritten).
        env (dict, optional): Its environment. Defaults to
            :func:`tool_env`; ``PYTHONUNBUFFERED=1`` is added to either.
    """
    env = dict(env or tool_env(), PYTHONUNBUFFERED='1')
    with open(log, 'w') as out:
        proc = subprocess.Popen([str(c) for c in cmd],
                                cwd=cwd,
                                env=env,
                                stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def wait_for(condition: Callable[[], bool], proc: Popen, timeout: float,
             what: str, output: Callable[[], str]) -> None:
    """Poll ``condition`` until it holds; fail if ``proc`` ends first or
    ``timeout`` seconds pass, with the tail of ``output()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f'the run exited with {proc.returncode} before '
                        f'{what}\n{output()[-4000:]}')
        if time.monotonic() > deadline:
            pytest.fail(f'no {what} after {timeout} s\n{output()[-4000:]}')
        time.sleep(0.02)


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
