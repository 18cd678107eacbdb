# Copyright (c) glore_mm contributors. All rights reserved.
import io
import re
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from torch.utils.data import DataLoader

import glore_mm.engine.hooks as hooks_module
from tests.tool_runner import run_tool, tool_env

# Not imported by name: pytest would try to collect a class named Test*.
ProgressBarHook = hooks_module.TestProgressBarHook


class _ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=out.sum())
        return list(out)


class _CountMetric(BaseMetric):

    def process(self, data_batch, data_samples) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results) -> dict:
        return dict(count=sum(results))


def test_registered_in_mmengine_root_registry():
    assert HOOKS.get('TestProgressBarHook') is ProgressBarHook
    hook = HOOKS.build(dict(type='TestProgressBarHook', bar_width=10))
    assert isinstance(hook, ProgressBarHook) and hook.bar_width == 10


@pytest.mark.parametrize('bar_width', [0, -3, 2.5])
def test_bad_bar_width(bar_width):
    with pytest.raises(ValueError, match=f'bar_width.*{bar_width}'):
        ProgressBarHook(bar_width=bar_width)


def test_bar_in_a_real_test_run(tmp_path, capsys):
    """5 samples in batches of 2: the bar counts 3 iterations."""
    data = [dict(inputs=torch.rand(2)) for _ in range(5)]
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(tmp_path),
        test_dataloader=DataLoader(data, batch_size=2),
        test_cfg=dict(),
        test_evaluator=_CountMetric(),
        custom_hooks=[dict(type='TestProgressBarHook', bar_width=6)])
    metrics = runner.test()
    assert metrics == dict(count=5)
    out = capsys.readouterr().out
    assert '[      ] 0/3' in out
    assert '\r[>>    ] 1/3, ' in out
    assert '\r[>>>>>>] 3/3, ' in out
    # The bar's line ends with its last batch.
    assert out[out.index('3/3, '):].count('\n') >= 1


class _Loop:

    def __init__(self, n: int) -> None:
        self.dataloader = list(range(n))


class _Runner:

    def __init__(self, n: int) -> None:
        self.val_loop = _Loop(n)


def test_validation_bar_and_other_ranks(monkeypatch):
    stream = io.StringIO()
    hook = ProgressBarHook(bar_width=4, file=stream)
    runner = _Runner(2)
    hook.before_val_epoch(runner)
    for i in range(2):
        hook.after_val_iter(runner, i)
    hook.after_val_epoch(runner)
    assert stream.getvalue().endswith('\n')
    assert '\r[>>>>] 2/2, ' in stream.getvalue()

    monkeypatch.setattr(hooks_module, 'is_main_process', lambda: False)
    silent = io.StringIO()
    hook = ProgressBarHook(file=silent)
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0)
    hook.after_val_epoch(runner)
    assert silent.getvalue() == ''


# The toy run of tests/toy_training.py, 2 iterations validating 3 batches,
# then a test of 5 batches, logging every iteration at INFO as the tools do;
# the bar on stdout, as the tools add it.
RUN_WITH_LOGS = """
import sys
from mmengine.runner import Runner
from tests.toy_training import toy_config

cfg = toy_config(
    sys.argv[1],
    length=2,
    interval=2,
    custom_hooks=[dict(type='TestProgressBarHook', bar_width=10)])
cfg.log_level = 'INFO'
cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
cfg.val_dataloader.dataset.size = 6
cfg.test_dataloader = dict(cfg.val_dataloader, dataset=dict(
    type='FaultToyDataset', size=10))
cfg.test_cfg = dict()
cfg.test_evaluator = cfg.val_evaluator
runner = Runner.from_cfg(cfg)
runner.train()
runner.test()
"""
LOG_RECORD = re.compile(r'(Epoch|Iter)\((val|test)\) +\[')
BAR = re.compile(r'\[[> ]{10}\] \d+/\d+')


def test_bar_and_log_lines_never_share_a_line(tmp_path):
    """What a user sees on the console (stdout and stderr together,
    unbuffered): a line holds a log record or the progress bar, never both.
    """
    result = run_tool([sys.executable, '-c', RUN_WITH_LOGS, tmp_path / 'work'],
                      cwd=tmp_path,
                      env=tool_env(PYTHONUNBUFFERED='1'),
                      ok=False,
                      merge_output=True)
    console = result.stdout
    assert result.returncode == 0, console[-4000:]
    lines = console.split('\n')
    logs = [line for line in lines if LOG_RECORD.search(line)]
    bars = [line for line in lines if BAR.search(line)]
    # 3 validation and 5 test iterations, each logged; the metrics of both.
    assert len([ln for ln in logs if '(val)' in ln]) == 3 + 1, console
    assert len([ln for ln in logs if '(test)' in ln]) == 5 + 1, console
    assert any(' 3/3, ' in line for line in bars), console
    assert any(' 5/5, ' in line for line in bars), console
    for line in lines:
        assert not (LOG_RECORD.search(line) and BAR.search(line)), line
