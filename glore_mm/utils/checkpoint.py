# Copyright (c) glore_mm contributors. All rights reserved.
"""Reading checkpoints safely: MMEngine's types allowed, misfits refused.

:func:`read_checkpoint` and :func:`load_model_checkpoint` are how every tool
of glore_mm reads a checkpoint: a file that is no checkpoint, or one that
does not fit the model, is refused with its path and what is wrong.

Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``: only
tensors, containers and an allowlist of types may be unpickled. MMEngine
0.10.7 saves more than that in every checkpoint, so its own ``resume`` and
``load_from`` fail with ``Unsupported global:
mmengine.logging.history_buffer.HistoryBuffer``.

Rather than switching ``weights_only`` off, :func:`allow_mmengine_checkpoints`
allowlists exactly the globals found in checkpoints written by MMEngine's
``Runner`` (found by saving real checkpoints and listing them with
``torch.serialization.get_unsafe_globals_in_checkpoint``):

- ``mmengine.logging.history_buffer.HistoryBuffer``: the ``message_hub``
  entry stores every logged scalar (loss, lr, time, metrics) as one.
- ``builtins.getattr``, mapped to a restricted stand-in: ``HistoryBuffer``
  pickles its statistics methods (``min``, ``max``, ``current``, ``mean``)
  as ``getattr(HistoryBuffer, name)``. The stand-in returns those four
  methods and refuses everything else, so the real ``getattr`` (which could
  reach any attribute of any allowed object) is never exposed.
- ``numpy._core.multiarray._reconstruct`` and ``numpy.ndarray``: rebuild
  the numpy arrays inside ``HistoryBuffer``.
- ``numpy._core.multiarray.scalar``: rebuilds numpy scalars, e.g. a best
  metric kept in ``message_hub.runtime_info`` or a seed in ``meta``.
- ``numpy.dtype`` and the dtype classes of bool, integer, float and
  complex numbers (``numpy.dtypes.Float64DType`` and so on): an array or
  scalar pickles its dtype, which the unpickler builds and then sets state
  on. The object dtype is not among them.
- The same two numpy functions under their numpy 1.x names
  (``numpy.core.multiarray.*``), so checkpoints saved with numpy 1 load
  under numpy 2.

Everything else (tensors, ``OrderedDict``, optimizer and scheduler states,
the config text in ``meta``) is allowed by torch already. A checkpoint that
holds any other object is still refused.
"""
import os
import pickle
import re
import zipfile
from typing import Any, Callable, Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# The statistics methods ``HistoryBuffer.__getstate__`` pickles by name.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')

# Kind codes of the dtypes an MMEngine checkpoint may carry: bool, signed
# and unsigned integers, floats, complex numbers.
_NUMERIC_DTYPE_CODES = '?bBhHiIlLqQefdgFDG'


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stand-in for ``getattr`` while unpickling with ``weights_only``.

    Args:
        obj (Any): The object whose attribute the pickle asks for.
        name (str): The attribute name.

    Returns:
        Callable: ``getattr(HistoryBuffer, name)``.

    Raises:
        pickle.UnpicklingError: Unless ``obj`` is ``HistoryBuffer`` and
            ``name`` one of its statistics methods.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed; '
        'only getattr(HistoryBuffer, name) with name in '
        f'{_HISTORY_BUFFER_METHODS} is allowed for MMEngine checkpoints')


def _numpy_multiarray() -> Any:
    """Return numpy's ``multiarray`` module (``numpy._core`` in numpy 2)."""
    core = getattr(np, '_core', None)
    if core is None or not hasattr(core, 'multiarray'):
        core = np.core
    return core.multiarray


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """List the globals :func:`allow_mmengine_checkpoints` allowlists.

    Returns:
        list: Entries for ``torch.serialization.add_safe_globals``: a
        class or function, or a ``(callable, 'module.name')`` pair where the
        name in the pickle differs from the callable's own.
    """
    multiarray = _numpy_multiarray()
    dtype_classes = {type(np.dtype(code)) for code in _NUMERIC_DTYPE_CODES}
    safe: List[SafeGlobal] = [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        # Names written by numpy 1.x.
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]
    # ``type(np.dtype(...))`` is ``np.dtype`` itself on old numpy.
    safe.extend(sorted(dtype_classes - {np.dtype}, key=lambda t: t.__name__))
    return safe


def allow_mmengine_checkpoints() -> None:
    """Allowlist the types of MMEngine checkpoints for ``weights_only``.

    Adds :func:`mmengine_checkpoint_globals` to torch's process-wide safe
    globals, so ``resume``, ``load_from`` and ``load_checkpoint`` read
    MMEngine checkpoints while ``torch.load`` keeps ``weights_only=True``.
    ``import glore_mm`` calls it, so every tool, test and config importing
    anything of glore_mm has the allowlist; calling it again adds nothing.
    A no-op on torch versions without
    ``torch.serialization.add_safe_globals`` (they do not default to
    ``weights_only=True``).
    """
    serialization = torch.serialization
    if not hasattr(serialization, 'add_safe_globals'):
        return
    present = set(serialization.get_safe_globals())
    missing = [g for g in mmengine_checkpoint_globals() if g not in present]
    if missing:
        serialization.add_safe_globals(missing)


#: Names shown of the missing or unexpected keys of a checkpoint that does
#: not fit a model.
_KEYS_SHOWN = 5


def _describe_file(path: str) -> str:
    """What a file that is no PyTorch checkpoint looks like."""
    size = os.path.getsize(path)
    if size == 0:
        return 'an empty file'
    with open(path, 'rb') as f:
        head = f.read(512)
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        return f'{size} bytes of binary data starting with {head[:8]!r}'
    first = text.strip().splitlines()[0][:60] if text.strip() else ''
    return f'a text file of {size} bytes starting with {first!r}'


def _is_torch_file(path: str) -> bool:
    """Whether ``path`` is in one of ``torch.save``'s formats.

    The zip archive (torch >= 1.6) or the legacy pickle, which starts with
    a pickle protocol byte pair.
    """
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_checkpoint(path: str) -> Dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)``, on the CPU.

    Every way the file can be wrong is refused with its path and what it
    is: missing, not a file ``torch.save`` wrote (a text file, random
    bytes), a damaged one, one holding objects the weights-only loader
    refuses (only tensors, containers and MMEngine's own types, see
    :func:`allow_mmengine_checkpoints`, are loaded; pickles can run code),
    or one holding no model weights.

    Args:
        path (str): The checkpoint file.

    Returns:
        dict: The checkpoint: ``state_dict`` (and ``meta``...) for an
        MMEngine checkpoint, or the bare state dict.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        ValueError: If it is not a readable model checkpoint.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} is not a file')
    if not _is_torch_file(path):
        raise ValueError(f'checkpoint {path!r} is not a PyTorch checkpoint: '
                         f'it is {_describe_file(path)}')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's message explains its options first; the line naming
        # the refused global (when there is one) says what is wrong
        lines = [line.strip() for line in str(err).splitlines()]
        named = [line for line in lines if 'Unsupported global' in line]
        reason = named[0].split('. ')[0] if named else lines[0]
        raise ValueError(
            f'checkpoint {path!r} holds objects that the weights-only '
            f'loader refuses ({reason}): glore_mm loads tensors, containers '
            'and the types MMEngine writes, nothing that can run code. Only '
            'for a file you trust completely, set '
            'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 for that one command') from err
    except Exception as err:  # torch raises RuntimeError, EOFError, ...
        raise ValueError(f'checkpoint {path!r} cannot be read, it may be '
                         f'damaged or cut short: {err}') from err
    state_dict = checkpoint_state_dict(checkpoint)
    if not state_dict:
        kind = (f'a dict with keys {sorted(checkpoint)[:_KEYS_SHOWN]}'
                if isinstance(checkpoint, dict) else
                f'a {type(checkpoint).__name__}')
        raise ValueError(f'checkpoint {path!r} holds no model weights: it is '
                         f'{kind}, not a state dict or an MMEngine '
                         'checkpoint with a "state_dict"')
    return checkpoint


def checkpoint_state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint, as a model's ``state_dict`` names
    them.

    Args:
        checkpoint: What ``torch.load`` read.

    Returns:
        dict[str, Tensor]: ``checkpoint['state_dict']`` (or the checkpoint
        itself), without a ``module.`` prefix (a model saved inside its
        distributed wrapper); empty if it holds no tensors.
    """
    if not isinstance(checkpoint, dict):
        return {}
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        return {}
    return {
        re.sub(r'^module\.', '', key): value
        for key, value in state_dict.items()
        if isinstance(value, torch.Tensor)
    }


def _some(keys: Sequence[str]) -> str:
    shown = ', '.join(sorted(keys)[:_KEYS_SHOWN])
    more = len(keys) - _KEYS_SHOWN
    return shown + (f' and {more} more' if more > 0 else '')


def check_checkpoint_fits(model: nn.Module, state_dict: Dict[str,
                                                             torch.Tensor],
                          path: str) -> None:
    """Raise unless ``state_dict`` has exactly the keys and shapes of
    ``model``'s.

    Args:
        model (nn.Module): The model (not a distributed wrapper).
        state_dict (dict): From :func:`checkpoint_state_dict`.
        path (str): The checkpoint, for the message.

    Raises:
        ValueError: Naming how many keys are missing and unexpected, with a
            few of each, or the tensors whose shapes differ.
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f'{len(missing)} of the model\'s {len(expected)} '
                         f'keys are missing ({_some(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} of its {len(state_dict)} keys '
                         f'are not in the model ({_some(unexpected)})')
        raise ValueError(
            f'checkpoint {path!r} does not fit the model '
            f'({type(model).__name__}): ' + '; '.join(parts) + '. Is it the '
            'checkpoint of another config (e.g. a model trained without '
            'GloRe units)?')
    shapes = [
        f'{key} {list(state_dict[key].shape)} vs {list(value.shape)}'
        for key, value in expected.items()
        if state_dict[key].shape != value.shape
    ]
    if shapes:
        raise ValueError(
            f'checkpoint {path!r} does not fit the model '
            f'({type(model).__name__}): {len(shapes)} tensors have other '
            f'shapes (checkpoint vs model): {_some(shapes)}')


def load_model_checkpoint(model: nn.Module, path: str) -> Dict[str, Any]:
    """Load a whole-model checkpoint into ``model``, refusing any misfit.

    :func:`read_checkpoint`, then :func:`check_checkpoint_fits`, then
    ``model.load_state_dict``. For trained models (tests, demos, exports):
    plain pretrained backbones, whose checkpoints lack the units' keys,
    load through the backbone's own ``init_cfg`` or ``pretrained``.

    Args:
        model (nn.Module): The model.
        path (str): The checkpoint file.

    Returns:
        dict: The checkpoint (its ``meta`` holds e.g. the dataset's
        classes).
    """
    checkpoint = read_checkpoint(path)
    state_dict = checkpoint_state_dict(checkpoint)
    check_checkpoint_fits(model, state_dict, path)
    model.load_state_dict(state_dict)
    return checkpoint
