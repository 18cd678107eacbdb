# Copyright (c) glore_mm contributors. All rights reserved.
"""refuse_bad_input: what the package refuses becomes argparse's error."""
import argparse

import pytest

from glore_mm.utils import refuse_bad_input


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='tool.py')
    parser.add_argument('config')
    return parser


@pytest.mark.parametrize('error, message', [
    (ValueError("--shape takes T H W, got [1]"),
     'error: --shape takes T H W, got [1]'),
    (FileNotFoundError("config 'x.py' is not a file"),
     "error: config 'x.py' is not a file"),
    (KeyError('unknown --variants nope'), 'error: unknown --variants nope'),
    (FileExistsError("out_dir 'o' is not empty"),
     "error: out_dir 'o' is not empty"),
])
def test_bad_input_exits_2_with_usage(capsys, error, message):
    with pytest.raises(SystemExit) as raised:
        with refuse_bad_input(_parser()):
            raise error
    assert raised.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith('usage: tool.py [-h] config')
    assert f'tool.py: {message}\n' in stderr


def test_other_errors_stay_errors():
    """A bug in the work is not reported as a usage error."""
    with pytest.raises(RuntimeError, match='deep'):
        with refuse_bad_input(_parser()):
            raise RuntimeError('deep')
    with pytest.raises(ValueError, match='not listed'):
        with refuse_bad_input(_parser(), (RuntimeError, )):
            raise ValueError('not listed')


def test_errors_can_be_chosen(capsys):
    with pytest.raises(SystemExit) as raised:
        with refuse_bad_input(_parser(), (RuntimeError, )):
            raise RuntimeError('--device cuda was given, but no GPU')
    assert raised.value.code == 2
    assert 'error: --device cuda was given' in capsys.readouterr().err


def test_nothing_raised_nothing_printed(capsys):
    with refuse_bad_input(_parser()):
        value = 1
    assert value == 1 and capsys.readouterr().err == ''
