# Copyright (c) glore_mm contributors. All rights reserved.
"""The hooks glore_mm's configs declare, added to a config that lacks them.

Our configs declare ``RandomStateHook`` and ``TestProgressBarHook`` in
``custom_hooks`` and ``AtomicCheckpointHook`` as
``default_hooks.checkpoint`` (``configs/_base_/glore_runtime.py``), so that
every tool reading them gives the same run. ``tools/train.py`` and
``tools/test.py`` also serve configs from elsewhere: the functions here add
what such a config lacks and return one line per addition, saying what was
added and why, for the tool to log once the runner (and its log file)
exists (:func:`log_notes`). A config that declares the hooks is left as it
is, and no line is returned.
"""
import logging
from typing import Any, List, Optional, Sequence

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

# Registers the hooks (and CPUDistributedDataParallel); added to the
# custom_imports of a config that gets one of them, so that the config
# dumped to the work_dir runs with other tools too.
ENGINE_MODULE = 'glore_mm.engine'
# Checkpoint hooks use_atomic_checkpoints turns into AtomicCheckpointHook.
CHECKPOINT_HOOKS = ('CheckpointHook', 'AtomicCheckpointHook')
# Where a config finds the declarations to copy.
RUNTIME_FRAGMENT = 'configs/_base_/glore_runtime.py'


def config_name(cfg: Config) -> str:
    """The config's file name, for messages."""
    return cfg.filename or '<config>'


def import_engine(cfg: Config) -> bool:
    """Add :data:`ENGINE_MODULE` to ``cfg.custom_imports``.

    Args:
        cfg (Config): The config to edit.

    Returns:
        bool: Whether it was added (False if the config imports it
        already).
    """
    custom_imports = cfg.get('custom_imports', None)
    if custom_imports is None:
        cfg.custom_imports = ConfigDict(
            imports=[ENGINE_MODULE], allow_failed_imports=False)
        return True
    imports = custom_imports.get('imports', [])
    imports = [imports] if isinstance(imports, str) else list(imports)
    if ENGINE_MODULE in imports:
        return False
    custom_imports.imports = [*imports, ENGINE_MODULE]
    return True


def _type_name(hook_type: Any) -> str:
    """The class name a hook config's ``type`` (a name or a class) names."""
    name = hook_type if isinstance(hook_type, str) else getattr(
        hook_type, '__name__', str(hook_type))
    return name.split('.')[-1]


def _added(cfg: Config, what: str, why: str) -> str:
    """The line that reports an addition to ``cfg``."""
    imported = ''
    if import_engine(cfg):
        imported = f'; {ENGINE_MODULE} added to custom_imports'
    return (f'{what}, which {config_name(cfg)} does not declare: {why}'
            f'{imported}. Other tools run this config without it; declare '
            f'it in the config as {RUNTIME_FRAGMENT} shows')


def _add_custom_hook(cfg: Config, hook_type: str, why: str) -> Optional[str]:
    """Add ``dict(type=hook_type)`` to ``cfg.custom_hooks`` unless there."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if any(_type_name(hook.get('type', '')) == hook_type for hook in hooks):
        return None
    cfg.custom_hooks = [*hooks, ConfigDict(type=hook_type)]
    return _added(cfg, f'custom_hooks: added {hook_type}', why)


def add_progress_bar(cfg: Config) -> Optional[str]:
    """Add a ``TestProgressBarHook`` to ``cfg.custom_hooks`` if missing.

    Args:
        cfg (Config): The config to edit.

    Returns:
        str, optional: The line to log if the hook was added.
    """
    return _add_custom_hook(
        cfg, 'TestProgressBarHook',
        'it draws a progress bar over the batches of each validation and '
        'test')


def add_random_state_hook(cfg: Config) -> Optional[str]:
    """Add a ``RandomStateHook`` to ``cfg.custom_hooks`` if missing.

    Checkpoints then hold every random state, and ``--resume`` continues
    exactly where the checkpoint left off.

    Args:
        cfg (Config): The config to edit.

    Returns:
        str, optional: The line to log if the hook was added.
    """
    return _add_custom_hook(
        cfg, 'RandomStateHook',
        'it keeps the random states in each checkpoint, so that --resume '
        'continues exactly where the run stopped')


def use_atomic_checkpoints(cfg: Config) -> Optional[str]:
    """Save checkpoints with ``AtomicCheckpointHook``.

    A ``default_hooks.checkpoint`` of type ``CheckpointHook`` becomes an
    ``AtomicCheckpointHook`` with the same arguments; a config without one
    gets MMEngine's default (``interval=1``) as an ``AtomicCheckpointHook``.
    ``default_hooks.checkpoint=None`` (no checkpoints) and an
    ``AtomicCheckpointHook`` stay as they are.

    A checkpoint hook of another type is kept, and the returned line warns
    that its writes are not known to be atomic.

    Args:
        cfg (Config): The config to edit.

    Returns:
        str, optional: The line to log if the config was changed or its
        checkpoint hook is of another type.
    """
    if cfg.get('default_hooks', None) is None:
        cfg.default_hooks = ConfigDict()
    why = ('it writes each checkpoint and last_checkpoint atomically, so '
           'that a kill during a save leaves the previous checkpoint usable')
    if 'checkpoint' not in cfg.default_hooks:
        cfg.default_hooks.checkpoint = ConfigDict(
            type='AtomicCheckpointHook', interval=1)
        return _added(
            cfg, 'default_hooks.checkpoint: added AtomicCheckpointHook '
            '(interval=1, as MMEngine\'s default CheckpointHook)', why)
    hook = cfg.default_hooks.checkpoint
    if hook is None:
        return None
    name = _type_name(hook.get('type', ''))
    if name == 'AtomicCheckpointHook':
        return None
    if name not in CHECKPOINT_HOOKS:
        return (f'default_hooks.checkpoint.type={name!r} in '
                f'{config_name(cfg)} is kept: only the types '
                f'{CHECKPOINT_HOOKS} become AtomicCheckpointHook, so a kill '
                'during a save may leave a broken checkpoint')
    hook.type = 'AtomicCheckpointHook'
    return _added(
        cfg, f'default_hooks.checkpoint: {name} became AtomicCheckpointHook '
        '(same arguments)', why)


def add_missing_hooks(cfg: Config, training: bool) -> List[str]:
    """Add the hooks glore_mm's configs declare, where ``cfg`` lacks them.

    Testing gets ``TestProgressBarHook``; training also
    ``RandomStateHook`` and ``AtomicCheckpointHook``.

    Args:
        cfg (Config): The config to edit.
        training (bool): Whether the config is about to be trained.

    Returns:
        list[str]: One line per addition (or kept foreign checkpoint
        hook), for :func:`log_notes`; empty for a config that declares
        them all.
    """
    notes = [add_progress_bar(cfg)]
    if training:
        notes += [add_random_state_hook(cfg), use_atomic_checkpoints(cfg)]
    return [note for note in notes if note is not None]


def log_notes(notes: Sequence[str]) -> None:
    """Log each line of :func:`add_missing_hooks` as a warning.

    Call it once the runner is built: its logger, which MMEngine makes the
    current one, writes the lines to the run's log file too.

    Args:
        notes (Sequence[str]): The lines.
    """
    for note in notes:
        print_log(note, logger='current', level=logging.WARNING)
