# Copyright (c) glore_mm contributors. All rights reserved.
"""Random states in checkpoints, so that a resumed run repeats the rest of
an uninterrupted one.

A training process draws from four generators: Python's ``random`` and
NumPy's global generator (data augmentation such as mmseg's
``RandomCrop``), torch's CPU generator (dropout, weight init, the base seed
of each ``DataLoader`` iterator) and torch's CUDA generators. MMEngine seeds
them once, when the ``Runner`` is built, and keeps none of them in its
checkpoints. :class:`RandomStateHook` stores the state of every generator
of every rank in ``checkpoint['meta']['random_states']`` and puts them back
when training resumes.

The states are kept as tensors, ints, floats, strings and lists, so a
checkpoint holding them still loads with ``torch.load(weights_only=True)``.
"""
import logging
import random
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

RandomStates = Dict[str, Any]
# Where the states of every rank, in rank order, go in a checkpoint.
META_KEY = 'random_states'
_GENERATORS = ('python', 'numpy', 'torch', 'cuda')


def get_random_states() -> RandomStates:
    """Return the state of every random generator of this process.

    Returns:
        dict: ``python`` (``random.getstate()``), ``numpy``
        (``np.random.get_state()``), ``torch`` (the CPU generator) and
        ``cuda`` (one state per CUDA device; empty without CUDA), as
        tensors, ints, floats and lists.
    """
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    cuda = (
        torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [])
    return dict(
        python=dict(
            version=version,
            internal=torch.tensor(internal, dtype=torch.int64),
            gauss_next=gauss_next),
        numpy=dict(
            kind=kind,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state(),
        cuda=cuda)


def set_random_states(states: RandomStates) -> None:
    """Put back states returned by :func:`get_random_states`.

    Args:
        states (dict): The states.

    Raises:
        KeyError: If ``states`` lacks one of the generators.
        ValueError: If ``states`` holds CUDA states for another number of
            devices than this process sees.
    """
    missing = [name for name in _GENERATORS if name not in states]
    if missing:
        raise KeyError(f'set_random_states: states lack {missing}; expected '
                       f'the keys {_GENERATORS}, got {sorted(states)}')
    cuda = list(states['cuda'])
    num_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if cuda and len(cuda) != num_devices:
        raise ValueError(
            f'set_random_states: states hold {len(cuda)} CUDA generator '
            f'states, but this process sees {num_devices} CUDA devices')
    python = states['python']
    random.setstate((python['version'], tuple(python['internal'].tolist()),
                     python['gauss_next']))
    numpy = states['numpy']
    np.random.set_state(
        (numpy['kind'], numpy['keys'].numpy().astype(np.uint32), numpy['pos'],
         numpy['has_gauss'], numpy['cached_gaussian']))
    torch.set_rng_state(states['torch'])
    if cuda:
        torch.cuda.set_rng_state_all(cuda)


def gather_random_states(
        states: Optional[RandomStates] = None) -> List[RandomStates]:
    """Collect the random states of every rank; every rank must call it.

    Args:
        states (dict, optional): This rank's states;
            :func:`get_random_states` if None.

    Returns:
        list[dict]: The states of every rank, in rank order (one entry
        outside distributed runs).
    """
    if states is None:
        states = get_random_states()
    return all_gather_object(states)


class _RestoreBeforeBatch:
    """Iterator that sets random states just before one of its batches.

    ``IterBasedTrainLoop`` skips the batches a resumed run has trained on
    by drawing them again (the sampler and the dataloader workers then
    stand where they stood), which runs the data pipeline and its
    augmentations. The states are set after that skip, right before the
    first batch the resumed run trains on.

    Args:
        iterator (Iterator): The loop's dataloader iterator.
        skip (int): Batches drawn before the states are set.
        states (dict): The states to set.
    """

    def __init__(self, iterator: Iterator, skip: int,
                 states: RandomStates) -> None:
        self._iterator = iterator
        self._skip = skip
        self._states: Optional[RandomStates] = states

    def __iter__(self) -> '_RestoreBeforeBatch':
        return self

    def __next__(self) -> Any:
        if self._skip > 0:
            self._skip -= 1
        elif self._states is not None:
            set_random_states(self._states)
            self._states = None
        return next(self._iterator)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Keep every random state in checkpoints and restore it on resume.

    With it, a run killed after a checkpoint and resumed from it ends with
    the same weights as a run that was never interrupted, given a fixed
    ``randomness.seed``, deterministic kernels
    (``randomness.deterministic=True``) and the same number of processes.

    - Saving: the states of every rank, in rank order, go into
      ``checkpoint['meta']['random_states']``. ``AtomicCheckpointHook``
      has every rank hand in its states (only rank 0 writes the file);
      with MMEngine's ``CheckpointHook`` only single-process runs keep
      them.
    - Validation leaves the states as it found them: what a validation
      during training draws (each ``DataLoader`` iterator draws a base
      seed from torch's generator) would otherwise be missing from a run
      resumed from a checkpoint saved just before it.
    - Resuming: the states are set right before the first batch that the
      resumed run trains on is drawn: after ``IterBasedTrainLoop`` skipped
      the batches already trained on (a skip that runs the augmentations),
      or at the start of the next epoch of an epoch-based loop. A
      checkpoint loaded with ``load_from`` only (no resume) is not a
      resume: its states are ignored.

    Registered in MMEngine's root ``HOOKS``, so configs of every scope can
    name it in ``custom_hooks``.
    """

    # Before CheckpointHook (VERY_LOW) and the other hooks of an epoch's
    # start and of validation.
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._val_states: Optional[RandomStates] = None
        # (iteration of the loaded checkpoint, states of every rank or None)
        self._loaded: Optional[tuple] = None
        self._warned_single_rank = False

    def _training_states(self) -> RandomStates:
        """The states training continues from, also during validation."""
        if self._val_states is not None:
            return self._val_states
        return get_random_states()

    def collect_checkpoint_meta(self, runner, meta: dict) -> None:
        """Gather every rank's states into the meta of a checkpoint.

        ``AtomicCheckpointHook`` calls it on every rank before rank 0
        writes a checkpoint (its ``COLLECT_META_EVENT``).

        Args:
            runner (Runner): The runner.
            meta (dict): The checkpoint's ``meta``.
        """
        meta[META_KEY] = gather_random_states(self._training_states())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store this process's states if they were not gathered.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be written.
        """
        meta = checkpoint.setdefault('meta', {})
        if META_KEY in meta:
            return
        _, world_size = get_dist_info()
        if world_size == 1:
            meta[META_KEY] = [self._training_states()]
        elif not self._warned_single_rank:
            self._warned_single_rank = True
            print_log(
                'RandomStateHook: this checkpoint was saved without the '
                f'random states of the {world_size} ranks (only rank 0 '
                'writes); use AtomicCheckpointHook as '
                'default_hooks.checkpoint to keep them.',
                logger='current',
                level=logging.WARNING)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the checkpoint's states until training resumes.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        meta = checkpoint.get('meta', None) or {}
        self._loaded = (meta.get('iter'), meta.get(META_KEY, None))

    def before_train_epoch(self, runner) -> None:
        """Set the resumed states, or arrange for them to be set."""
        if self._loaded is None:
            return
        loaded_iter, states = self._loaded
        self._loaded = None
        if not runner.iter or runner.iter != loaded_iter:
            return  # loaded with load_from: training starts afresh
        rank, world_size = get_dist_info()
        if states is None:
            print_log(
                'RandomStateHook: the checkpoint holds no random states '
                '(it was saved without this hook), so the resumed run will '
                'differ from an uninterrupted one.',
                logger='current',
                level=logging.WARNING)
            return
        if len(states) != world_size:
            print_log(
                f'RandomStateHook: the checkpoint holds the random states of '
                f'{len(states)} processes, but {world_size} run now; the '
                'random states are not restored, so the resumed run will '
                'differ from an uninterrupted one.',
                logger='current',
                level=logging.WARNING)
            return
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = _RestoreBeforeBatch(
                loop.dataloader_iterator, runner.iter, states[rank])
            when = f'after the {runner.iter} trained batches are skipped'
        else:
            set_random_states(states[rank])
            when = 'now'
        print_log(
            f'RandomStateHook: the random states of iteration {runner.iter} '
            f'are restored {when}',
            logger='current')

    def before_val(self, runner) -> None:
        self._val_states = get_random_states()

    def after_val(self, runner) -> None:
        if self._val_states is not None:
            set_random_states(self._val_states)
        self._val_states = None
