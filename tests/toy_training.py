# Copyright (c) glore_mm contributors. All rights reserved.
"""A small MMEngine training run for the checkpoint and resume tests.

The dataset augments with Python's ``random`` and NumPy's generator, the
model draws dropout masks from torch's, and validation runs at every
checkpoint, so a resumed run repeats an uninterrupted one only if every
random state is restored at the right moment. Two hooks break the run:
one stops it, one makes file writes fail halfway.
"""
import builtins
import errno
import os
import random
import signal
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import glore_mm.engine  # noqa: F401  (registers the hooks)

BATCH_SIZE = 2
NUM_TRAIN = 8  # 4 iterations per epoch


@DATASETS.register_module()
class FaultToyDataset(Dataset):
    """Fixed samples, augmented with noise and a random scale."""

    def __init__(self, size: int = NUM_TRAIN) -> None:
        generator = torch.Generator().manual_seed(1234)
        self.inputs = torch.randn(size, 4, generator=generator)
        self.targets = torch.randn(size, 2, generator=generator)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        noise = np.random.normal(0, 0.1, 4).astype(np.float32)
        scale = random.uniform(0.5, 1.5)
        inputs = (self.inputs[index] + torch.from_numpy(noise)) * scale
        return dict(inputs=inputs, targets=self.targets[index])


@MODELS.register_module()
class FaultToyModel(BaseModel):
    """Dropout, a linear layer and a BN whose running stats are buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.linear = nn.Linear(4, 2)
        self.norm = nn.BatchNorm1d(2)

    def forward(self,
                inputs: torch.Tensor,
                targets: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        outputs = self.norm(self.linear(self.dropout(inputs)))
        if mode == 'loss':
            return dict(loss=F.mse_loss(outputs, targets))
        if mode == 'predict':
            return [
                dict(error=F.mse_loss(o, t).item())
                for o, t in zip(outputs, targets)
            ]
        return outputs


@METRICS.register_module()
class FaultToyMetric(BaseMetric):
    """Mean squared error of the predictions."""

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(sample['error'] for sample in data_samples)

    def compute_metrics(self, results: List[float]) -> Dict[str, float]:
        return dict(error=float(np.mean(results)))


class Interrupted(Exception):
    """Raised by :class:`FaultToyInterrupt`: the run "was killed"."""


@HOOKS.register_module()
class FaultToyInterrupt(Hook):
    """Stop the run when iteration ``at_iter + 1`` starts."""

    priority = 'HIGHEST'

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            raise Interrupted(f'interrupted before iteration {runner.iter}')


class HalfWrite:
    """A file whose ``write`` stores half the data, then calls ``fail``."""

    def __init__(self, file: Any, fail: Callable[[], None]) -> None:
        self._file = file
        self._fail = fail

    def write(self, data) -> None:
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        self._fail()

    def __enter__(self) -> 'HalfWrite':
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _disk_full() -> None:
    raise OSError(errno.ENOSPC, 'No space left on device (simulated)')


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class FailingOpen:
    """``open`` whose files, if written and named with ``part``, get only
    half of their data before ``fail`` is called."""

    def __init__(self, open_: Callable, part: str,
                 fail: Callable[[], None]) -> None:
        self._open = open_
        self._part = part
        self._fail = fail

    def __call__(self, file, mode: str = 'r', *args, **kwargs) -> Any:
        handle = self._open(file, mode, *args, **kwargs)
        if 'w' in mode and self._part in os.fspath(file):
            return HalfWrite(handle, self._fail)
        return handle


@HOOKS.register_module()
class FaultToyFailingWrites(Hook):
    """From iteration ``at_iter + 1`` on, writing a file whose name holds
    ``part`` stores half the data, then fails as a full disk does
    (``OSError``), or kills the process (``kill=True``).

    It replaces ``builtins.open``: in-process tests must put it back
    (``monkeypatch.setattr(builtins, 'open', builtins.open)``).
    """

    priority = 'HIGHEST'

    def __init__(self, part: str, at_iter: int, kill: bool = False) -> None:
        self.part = part
        self.at_iter = at_iter
        self.kill = kill

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at_iter:
            builtins.open = FailingOpen(builtins.open, self.part,
                                        _killed if self.kill else _disk_full)


def _loader(size: int, sampler: str, shuffle: bool) -> dict:
    return dict(
        dataset=dict(type='FaultToyDataset', size=size),
        sampler=dict(type=sampler, shuffle=shuffle),
        batch_size=BATCH_SIZE,
        num_workers=0,
        collate_fn=dict(type='default_collate'))


def toy_config(work_dir: Path,
               by_epoch: bool = False,
               length: int = 12,
               interval: int = 4,
               checkpoint: Optional[dict] = None,
               custom_hooks: Sequence[dict] = (),
               resume: bool = False) -> Config:
    """The config of a toy run.

    Args:
        work_dir (Path): The run's work_dir.
        by_epoch (bool): An ``EpochBasedTrainLoop`` (``length`` epochs of
            4 iterations) instead of an ``IterBasedTrainLoop`` (``length``
            iterations). Defaults to False.
        length (int): Iterations or epochs. Defaults to 12.
        interval (int): Checkpoint and validation interval, in iterations or
            epochs. Defaults to 4.
        checkpoint (dict, optional): ``default_hooks.checkpoint``; an
            ``AtomicCheckpointHook`` every ``interval`` if None.
        custom_hooks (Sequence[dict]): Hooks to add. Defaults to none.
        resume (bool): Resume from the work_dir's last checkpoint.
            Defaults to False.

    Returns:
        Config: The config.
    """
    if checkpoint is None:
        checkpoint = dict(type='AtomicCheckpointHook', interval=interval)
    checkpoint = dict(checkpoint)
    checkpoint.setdefault('by_epoch', by_epoch)
    if by_epoch:
        loader = _loader(NUM_TRAIN, 'DefaultSampler', shuffle=True)
        train_cfg = dict(
            by_epoch=True, max_epochs=length, val_interval=interval)
    else:
        loader = _loader(NUM_TRAIN, 'InfiniteSampler', shuffle=True)
        train_cfg = dict(
            by_epoch=False, max_iters=length, val_interval=interval)
    return Config(
        dict(
            model=dict(type='FaultToyModel'),
            work_dir=str(work_dir),
            experiment_name=f'toy_{uuid.uuid4().hex}',
            train_dataloader=loader,
            train_cfg=train_cfg,
            val_dataloader=_loader(4, 'DefaultSampler', shuffle=False),
            val_evaluator=dict(type='FaultToyMetric'),
            val_cfg=dict(),
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            param_scheduler=[
                dict(type='LinearLR', start_factor=0.5, by_epoch=False)
            ],
            default_hooks=dict(checkpoint=checkpoint),
            custom_hooks=list(custom_hooks),
            randomness=dict(seed=0),
            default_scope='mmengine',
            log_level='WARNING',
            resume=resume))


StateDict = Dict[str, torch.Tensor]


def train(cfg: Config) -> StateDict:
    """Run ``cfg`` and return the model's final state dict."""
    runner = Runner.from_cfg(cfg)
    runner.train()
    state = runner.model.state_dict()
    return {name: tensor.detach().clone() for name, tensor in state.items()}


def same_weights(a: StateDict, b: StateDict) -> bool:
    """Whether two state dicts hold exactly the same tensors."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
