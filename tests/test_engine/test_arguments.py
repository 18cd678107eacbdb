# Copyright (c) glore_mm contributors. All rights reserved.
import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glore_mm.engine.arguments import (add_runner_args, build_test_parser,
                                       build_train_parser, parse_runner_args)
from glore_mm.engine.cpu_distributed import (DISTRIBUTED_LAUNCHERS, LAUNCHERS,
                                             NO_LAUNCHER)

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


def test_parse_runner_args_sets_local_rank(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    args = parse_runner_args(parser,
                             ['--local-rank', '3', '--cfg-options', 'a.b=1'])
    assert args.local_rank == 3 and args.cfg_options == {'a.b': 1}
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')
    args = parse_runner_args(parser, ['--local_rank', '5'])
    assert os.environ['LOCAL_RANK'] == '1'


def test_launchers():
    """MMEngine's four launchers; every one but 'none' is distributed."""
    assert LAUNCHERS == ('none', 'pytorch', 'slurm', 'mpi')
    assert NO_LAUNCHER == 'none'
    assert DISTRIBUTED_LAUNCHERS == ('pytorch', 'slurm', 'mpi')
    for parser in (build_train_parser(), build_test_parser()):
        launcher = next(a for a in parser._actions if a.dest == 'launcher')
        assert tuple(launcher.choices) == LAUNCHERS
        assert launcher.default == NO_LAUNCHER


@pytest.mark.parametrize('argv, resume', [
    ([], None),
    (['--resume'], 'auto'),
    (['--resume', '--amp'], 'auto'),
    (['--resume', 'ckpt.pth'], 'ckpt.pth'),
])
def test_train_arguments(argv, resume):
    args = parse_runner_args(build_train_parser(), ['cfg.py', *argv])
    assert args.config == 'cfg.py' and args.resume == resume
    assert args.amp == ('--amp' in argv)
    assert (args.launcher, args.work_dir, args.cfg_options) == ('none', None,
                                                                None)


def test_test_arguments():
    args = parse_runner_args(build_test_parser(), [
        'cfg.py', 'ckpt.pth', '--out', 'o', '--show-dir', 's', '--tta',
        '--launcher', 'pytorch'
    ])
    assert (args.checkpoint, args.out, args.show_dir, args.tta, args.launcher,
            args.wait_time, args.show) == ('ckpt.pth', 'o', 's', True,
                                           'pytorch', 2, False)


def _run_tool(name: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOLS / name), *argv],
        capture_output=True,
        text=True,
        env={
            **os.environ, 'COLUMNS': '80'
        },
        timeout=300)


@pytest.mark.parametrize('tool, parser', [('train.py', build_train_parser),
                                          ('test.py', build_test_parser)])
def test_tools_print_the_parsers_help(tool, parser, monkeypatch):
    """The tools' command lines are the package's parsers."""
    result = _run_tool(tool, '--help')
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv('COLUMNS', '80')
    monkeypatch.setattr(sys, 'argv', [tool])
    assert result.stdout == parser().format_help()
    assert '--launcher {none,pytorch,slurm,mpi}' in result.stdout


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_tools_refuse_bad_arguments(tool):
    result = _run_tool(tool, 'cfg.py', 'ckpt.pth', '--launcher', 'ray')
    assert result.returncode == 2
    assert ("argument --launcher: invalid choice: 'ray' (choose from "
            "'none', 'pytorch', 'slurm', 'mpi')") in result.stderr
    assert result.stderr.startswith(f'usage: {tool} ')
