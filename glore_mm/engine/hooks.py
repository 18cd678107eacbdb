# Copyright (c) glore_mm contributors. All rights reserved.
"""A progress bar for validation and testing."""
import sys
from typing import Any, Optional, Sequence, TextIO

from mmengine.dist import is_main_process
from mmengine.hooks import Hook, LoggerHook
from mmengine.registry import HOOKS
from mmengine.utils import ProgressBar

DATA_BATCH = Optional[Any]


@HOOKS.register_module()
class TestProgressBarHook(Hook):
    """Show a progress bar while the runner validates or tests.

    The bar advances once per validation or test iteration and counts the
    batches of this rank's dataloader; only rank 0 draws it. It lives in
    MMEngine's root ``HOOKS`` registry, so configs of every downstream scope
    can name it in ``custom_hooks``.

    The bar shares stdout with ``LoggerHook``: it runs just before that hook
    and ends its line at the iterations the logger writes one, and after the
    last batch, so log lines and metrics always start on a line of their
    own.

    Args:
        bar_width (int): Width of the bar in characters (shrunk to fit the
            terminal). Defaults to 50.
        file (TextIO, optional): Stream to draw on. Defaults to
            ``sys.stdout`` at the time the bar starts.
    """

    # Above LoggerHook's BELOW_NORMAL: draw first, then let it log.
    priority = 'NORMAL'

    def __init__(self,
                 bar_width: int = 50,
                 file: Optional[TextIO] = None) -> None:
        if not isinstance(bar_width, int) or bar_width <= 0:
            raise ValueError('TestProgressBarHook: bar_width must be a '
                             f'positive int, but got {bar_width!r}')
        self.bar_width = bar_width
        self.file = file
        self._bar: Optional[ProgressBar] = None

    def _start(self, loop: Any) -> None:
        """Start a bar over the batches of ``loop.dataloader`` on rank 0."""
        self._bar = None
        if not is_main_process():
            return
        try:
            num_batches = len(loop.dataloader)
        except (AttributeError, TypeError):
            # Without a sized dataloader, ProgressBar counts without a bar.
            num_batches = 0
        self._bar = ProgressBar(
            num_batches,
            bar_width=self.bar_width,
            file=self.file if self.file is not None else sys.stdout)

    def _update(self, runner, batch_idx: int) -> None:
        """Advance the bar; end its line if a log line or the end follows."""
        if self._bar is None:
            return
        self._bar.update()
        if 0 < self._bar.task_num <= self._bar.completed:
            self._finish()
        elif self._logger_writes(runner, batch_idx):
            self._end_line()

    def _logger_writes(self, runner, batch_idx: int) -> bool:
        """Whether a ``LoggerHook`` logs this validation/test iteration."""
        return any(
            isinstance(hook, LoggerHook)
            and hook.every_n_inner_iters(batch_idx, hook.interval)
            for hook in getattr(runner, 'hooks', ()))

    def _end_line(self) -> None:
        assert self._bar is not None
        self._bar.file.write('\n')
        self._bar.file.flush()

    def _finish(self) -> None:
        if self._bar is not None:
            self._end_line()
        self._bar = None

    def before_val_epoch(self, runner) -> None:
        self._start(runner.val_loop)

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: DATA_BATCH = None,
                       outputs: Optional[Sequence] = None) -> None:
        self._update(runner, batch_idx)

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self._finish()

    def before_test_epoch(self, runner) -> None:
        self._start(runner.test_loop)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: DATA_BATCH = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._update(runner, batch_idx)

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self._finish()
