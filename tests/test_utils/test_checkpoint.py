# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.utils.checkpoint: the allowlist that lets torch's
``weights_only`` load read MMEngine checkpoints, and nothing else."""
import io
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from glore_mm.utils import (allow_mmengine_checkpoints,
                            mmengine_checkpoint_globals)
from tests.tool_runner import run_tool
from tests.toy_training import toy_config, train


def _roundtrip(obj, weights_only: bool = True):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=weights_only)


def _message_hub_state() -> dict:
    hub = MessageHub.get_instance('test_checkpoint_allowlist')
    for loss in (2.0, 1.0):
        hub.update_scalar('train/loss', loss)
    hub.update_info('best_score', np.float64(71.5))
    return hub.state_dict()


def test_allowlist_is_idempotent():
    allow_mmengine_checkpoints()
    before = list(torch.serialization.get_safe_globals())
    allow_mmengine_checkpoints()
    assert list(torch.serialization.get_safe_globals()) == before
    for entry in mmengine_checkpoint_globals():
        assert entry in before


def test_mmengine_state_loads_with_weights_only():
    allow_mmengine_checkpoints()
    state = {
        'message_hub': _message_hub_state(),
        'meta': {
            'seed': np.int64(3),
            'mask': np.array([True, False]),
            'ids': np.arange(4, dtype=np.uint8),
        },
        'state_dict': {
            'w': torch.ones(2)
        },
    }
    loaded = _roundtrip(state)
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(1.5)
    assert buffer.statistics('current') == 1.0
    assert loaded['message_hub']['runtime_info']['best_score'] == 71.5
    assert loaded['meta']['seed'] == 3
    assert loaded['meta']['mask'].tolist() == [True, False]
    assert loaded['meta']['ids'].dtype == np.uint8
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_numpy1_names_are_allowed():
    # numpy 1.x pickles arrays as numpy.core.multiarray._reconstruct. The
    # legacy format keeps the pickle's GLOBAL lines as plain bytes.
    buf = io.BytesIO()
    torch.save({'a': np.arange(3.0)},
               buf,
               _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    assert b'numpy._core.multiarray' in data
    data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
    allow_mmengine_checkpoints()
    loaded = torch.load(io.BytesIO(data))
    assert loaded['a'].tolist() == [0.0, 1.0, 2.0]


class _Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize('payload, message', [
    (_Call(shutil.copyfile, 'a', 'b'), 'shutil.copyfile'),
    (_Call(getattr, HistoryBuffer,
           '__init__'), r"'__init__'\) is not allowed"),
    (_Call(getattr, np.ndarray, 'tofile'), 'is not allowed'),
    (np.array([None], dtype=object), 'ObjectDType'),
])
def test_other_objects_are_refused(payload, message):
    allow_mmengine_checkpoints()
    with pytest.raises(pickle.UnpicklingError, match=message):
        _roundtrip({'meta': {'payload': payload}})


# Pickles that ask the allowlisted ``getattr`` for anything but a statistics
# method of the HistoryBuffer class: other objects, other attributes.
GETATTR_PAYLOADS = {
    'ndarray.max': (np.arange(3), 'max'),
    'ndarray class.max': (np.ndarray, 'max'),
    'HistoryBuffer.__reduce__': (HistoryBuffer, '__reduce__'),
    'HistoryBuffer.update': (HistoryBuffer, 'update'),
    'HistoryBuffer.statistics': (HistoryBuffer, 'statistics'),
    'HistoryBuffer instance.max': (HistoryBuffer([1.0], [1]), 'max'),
    'HistoryBuffer.__class__': (HistoryBuffer, '__class__'),
}


@pytest.mark.parametrize(
    'target, name', GETATTR_PAYLOADS.values(), ids=list(GETATTR_PAYLOADS))
def test_getattr_answers_only_history_buffer_statistics(target, name):
    payload = {'meta': {'payload': _Call(getattr, target, name)}}
    # The payload is live: a full unpickle calls getattr and returns the
    # attribute.
    unpickled = _roundtrip(payload, weights_only=False)['meta']['payload']
    assert unpickled is not None and not isinstance(unpickled, _Call)
    allow_mmengine_checkpoints()
    with pytest.raises(
            pickle.UnpicklingError,
            match=rf"getattr\(.*, '{name}'\) is not allowed"):
        _roundtrip(payload)


@pytest.mark.parametrize('name', ['min', 'max', 'current', 'mean'])
def test_getattr_answers_history_buffer_statistics(name):
    allow_mmengine_checkpoints()
    method = _roundtrip({'m': _Call(getattr, HistoryBuffer, name)})['m']
    assert method is getattr(HistoryBuffer, name)


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of MMEngine's own CheckpointHook after 2 iterations,
    validated once: its message hub holds losses, lr and the metric."""
    work_dir = tmp_path_factory.mktemp('mmengine_checkpoint')
    train(
        toy_config(
            work_dir,
            length=2,
            interval=2,
            checkpoint=dict(type='CheckpointHook', interval=2)))
    return work_dir / 'iter_2.pth'


def test_real_mmengine_checkpoint_loads(mmengine_checkpoint):
    allow_mmengine_checkpoints()
    checkpoint = torch.load(mmengine_checkpoint)  # weights_only=True
    assert checkpoint['meta']['iter'] == 2
    hub = checkpoint['message_hub']
    loss = hub['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 2
    assert np.isfinite(loss.mean())
    assert {'state_dict', 'optimizer', 'param_schedulers'} <= set(checkpoint)


def test_importing_glore_mm_installs_the_allowlist(mmengine_checkpoint):
    """In a fresh interpreter, torch's default load refuses an MMEngine
    checkpoint until glore_mm is imported."""
    code = f"""
import pickle, torch
try:
    torch.load({str(mmengine_checkpoint)!r})
except pickle.UnpicklingError as error:
    assert 'HistoryBuffer' in str(error), error
else:
    raise AssertionError('loaded without the allowlist')
import glore_mm
print(torch.load({str(mmengine_checkpoint)!r})['meta']['iter'])
"""
    result = run_tool([sys.executable, '-c', code],
                      cwd=mmengine_checkpoint.parent)
    assert result.stdout.split() == ['2']
