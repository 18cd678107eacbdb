# Copyright (c) glore_mm contributors. All rights reserved.
"""Let ``torch.load(weights_only=True)`` read MMEngine checkpoints.

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
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

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
