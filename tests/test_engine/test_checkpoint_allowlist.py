# Copyright (c) glore_mm contributors. All rights reserved.
import io
import pickle
import shutil

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from glore_mm.utils import (allow_mmengine_checkpoints,
                            mmengine_checkpoint_globals)


def _roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)  # weights_only=True, torch's default


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
