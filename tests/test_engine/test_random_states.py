# Copyright (c) glore_mm contributors. All rights reserved.
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from glore_mm.engine import (RandomStateHook, gather_random_states,
                             get_random_states, set_random_states)
from glore_mm.engine.checkpoint_hooks import COLLECT_META_EVENT
from glore_mm.engine.random_states import META_KEY
from tests.toy_training import Interrupted, same_weights, toy_config, train


def _draw() -> tuple:
    """Numbers from every generator, the cached Gaussians included."""
    return (random.random(), random.gauss(0, 1), np.random.rand(3).tolist(),
            np.random.randn(), torch.rand(3).tolist())


def test_states_round_trip():
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    # Leave a cached Gaussian in both Python's and NumPy's generator.
    random.gauss(0, 1)
    np.random.randn()
    states = get_random_states()
    expected = _draw()
    assert _draw() != expected
    set_random_states(states)
    assert _draw() == expected


def test_states_load_with_weights_only_and_no_allowlist(tmp_path):
    random.gauss(0, 1)
    states = get_random_states()
    path = tmp_path / 'states.pth'
    torch.save(dict(meta={META_KEY: [states]}), path)
    serialization = torch.serialization
    allowed = serialization.get_safe_globals()
    serialization.clear_safe_globals()  # no allowlist of glore_mm's
    try:
        loaded = torch.load(path, weights_only=True)['meta'][META_KEY][0]
    finally:
        serialization.add_safe_globals(allowed)
    assert sorted(loaded) == ['cuda', 'numpy', 'python', 'torch']
    expected = _draw()
    set_random_states(loaded)
    assert _draw() == expected


def test_set_states_errors():
    states = get_random_states()
    del states['numpy']
    with pytest.raises(KeyError, match=r"lack \['numpy'\]"):
        set_random_states(states)
    states = get_random_states()
    num_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
    states['cuda'] = [torch.get_rng_state()] * (num_devices + 1)
    with pytest.raises(ValueError, match=f'{num_devices + 1} CUDA generator'):
        set_random_states(states)


def test_gather_outside_distributed_runs():
    states = get_random_states()
    gathered = gather_random_states(states)
    assert len(gathered) == 1 and gathered[0] is states
    # AtomicCheckpointHook has every rank call this method.
    assert callable(getattr(RandomStateHook, COLLECT_META_EVENT))


@pytest.mark.parametrize('by_epoch', [False, True])
@pytest.mark.parametrize('checkpoint_hook, with_hook', [
    ('AtomicCheckpointHook', True),
    ('CheckpointHook', True),
    ('AtomicCheckpointHook', False),
])
def test_resume_is_exact(tmp_path, by_epoch, checkpoint_hook, with_hook):
    """Interrupted after the second checkpoint and resumed, a run ends with
    the weights of an uninterrupted run; without the hook it does not."""
    length, interval = (3, 1) if by_epoch else (12, 4)
    stop = 2 * interval * (4 if by_epoch else 1)  # iterations done
    hooks = [dict(type='RandomStateHook')] if with_hook else []
    checkpoint = dict(type=checkpoint_hook, interval=interval)

    def config(work_dir, extra_hooks=(), resume=False):
        return toy_config(
            work_dir,
            by_epoch=by_epoch,
            length=length,
            interval=interval,
            checkpoint=checkpoint,
            custom_hooks=[*hooks, *extra_hooks],
            resume=resume)

    full = train(config(tmp_path / 'full'))
    cut = tmp_path / 'cut'
    with pytest.raises(Interrupted):
        train(config(cut, [dict(type='FaultToyInterrupt', at_iter=stop)]))
    last = (cut / 'last_checkpoint').read_text()
    assert last.endswith('epoch_2.pth' if by_epoch else f'iter_{stop}.pth')
    resumed = train(config(cut, resume=True))
    assert same_weights(resumed, full) == with_hook


def _runner(iteration: int) -> SimpleNamespace:
    """What RandomStateHook reads of a runner before it restores states."""
    return SimpleNamespace(iter=iteration, train_loop=None)


def test_load_from_is_not_a_resume():
    hook = RandomStateHook()
    torch.manual_seed(0)
    saved = get_random_states()
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    hook.after_load_checkpoint(None,
                               dict(meta=dict(iter=8, **{META_KEY: [saved]})))
    # load_from: training starts at iteration 0, the states stay as seeded.
    hook.before_train_epoch(_runner(0))
    assert torch.equal(torch.rand(3), expected)


def test_other_number_of_processes_keeps_states():
    hook = RandomStateHook()
    saved = get_random_states()
    hook.after_load_checkpoint(
        None, dict(meta=dict(iter=8, **{META_KEY: [saved, saved]})))
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    hook.before_train_epoch(_runner(8))
    assert torch.equal(torch.rand(3), expected)
