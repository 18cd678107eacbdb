# Copyright (c) glore_mm contributors. All rights reserved.
"""Checkpoints that a kill during the write cannot break.

MMEngine's ``CheckpointHook`` writes a checkpoint straight to its final
name, then overwrites ``last_checkpoint`` in place, and with
``max_keep_ckpts`` deletes the oldest kept checkpoint before writing the
new one. A process killed during any of these steps can leave a truncated
``iter_N.pth``, an empty ``last_checkpoint``, or a ``last_checkpoint``
naming a deleted file: ``--resume`` then fails or loads garbage.
:class:`AtomicCheckpointHook` writes every file to a temporary name in the
same folder, flushes it to disk and renames it over the final name, and
deletes outdated checkpoints only once the new one and ``last_checkpoint``
are in place.
"""
import logging
import os
import os.path as osp
from collections import deque
from typing import Optional, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from glore_mm.utils.fileio import atomic_write, remove_partial_files

# Name of the file backend that writes through atomic_write.
ATOMIC_BACKEND = 'atomic_local'
# The file in the work_dir naming the latest checkpoint (MMEngine's name).
LAST_CHECKPOINT = 'last_checkpoint'
# Hook method AtomicCheckpointHook calls on every rank, with the ``meta``
# dict of the checkpoint about to be written, before rank 0 writes it (the
# ``before_save_checkpoint`` hooks run on rank 0 only).
COLLECT_META_EVENT = 'collect_checkpoint_meta'


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend, writing through :func:`atomic_write`.

    Registered as the ``'atomic_local'`` file backend, without a URI
    prefix: only ``backend_args=dict(backend='atomic_local')`` selects it.
    """

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that never leaves a broken checkpoint behind.

    Takes the arguments of MMEngine's ``CheckpointHook`` and keeps its
    behaviour (``interval``, ``by_epoch``, ``max_keep_ckpts``,
    ``save_best``, ``save_last``, ``published_keys``, file names), with
    these differences on local folders:

    - Checkpoints (periodic and best) and ``last_checkpoint`` are written
      with :func:`atomic_write`: a kill during a save leaves the previous
      checkpoint and a ``last_checkpoint`` that names it.
    - With ``max_keep_ckpts``, the outdated checkpoint is deleted after the
      new one and ``last_checkpoint`` are written, not before.
    - ``.partial`` files of interrupted writes are deleted when training
      starts.
    - Before each checkpoint, every rank calls the hooks'
      ``collect_checkpoint_meta(runner, meta)``, so that hooks such as
      ``RandomStateHook`` can store a state of every rank (only rank 0
      writes the file).

    Checkpoints going to another file backend (``backend_args`` or
    ``file_client_args`` naming one, or a URI such as ``s3://``) are
    written by that backend, as ``CheckpointHook`` does.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._atomic = False

    def _select_atomic_backend(self, runner) -> bool:
        """Write through ``AtomicLocalBackend`` if the folder is local."""
        if self.file_client_args is not None:
            return False
        backend_args = dict(self.backend_args or {})
        backend = backend_args.get('backend', None)
        if backend is None:
            out_dir = self.out_dir if self.out_dir is not None else (
                runner.work_dir)
            if not isinstance(
                    get_file_backend(out_dir, backend_args=backend_args),
                    LocalBackend):
                return False
        elif backend not in ('local', ATOMIC_BACKEND):
            return False
        backend_args['backend'] = ATOMIC_BACKEND
        self.backend_args = backend_args
        return True

    def before_train(self, runner) -> None:
        self._atomic = self._select_atomic_backend(runner)
        super().before_train(runner)
        if not self._atomic:
            print_log(
                f'AtomicCheckpointHook: checkpoints go to {self.out_dir} '
                'through a non-local file backend, which writes them in '
                'place (not atomically).',
                logger='current',
                level=logging.WARNING)
        elif is_main_process():
            # last_checkpoint lives in the work_dir, checkpoints in out_dir.
            for folder in sorted({str(self.out_dir), str(runner.work_dir)}):
                for path in remove_partial_files(folder):
                    print_log(
                        f'AtomicCheckpointHook: removed {path}, left by an '
                        'interrupted write',
                        logger='current')

    def _keep(self, runner, step: int) -> Optional[int]:
        """Add ``step`` to the kept checkpoints, as ``CheckpointHook`` does.

        Returns:
            int, optional: The step whose checkpoint is now outdated.
        """
        if self.max_keep_ckpts <= 0:
            return None
        kept: deque = self.keep_ckpt_ids
        # A best checkpoint and a periodic one may save the same step.
        if len(kept) > 0 and kept[-1] == step:
            return None
        outdated = None
        if len(kept) == self.max_keep_ckpts:
            outdated = kept.popleft()
        kept.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(kept))
        return outdated

    def _remove_checkpoint(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by DeepSpeed are folders
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        runner.call_hook(COLLECT_META_EVENT, meta=meta)
        if not self._atomic:
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        outdated = self._keep(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir,
                                              LAST_CHECKPOINT))
        if outdated is not None:
            self._remove_checkpoint(outdated)
