# Copyright (c) glore_mm contributors. All rights reserved.
"""A training step as MMEngine's runner takes it: the step of a config's
model with its optimiser equals a literal forward, backward and optimiser
step, and the segmentation benchmark's step is still its literal SGD step.
"""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from glore_mm.analysis.benchmark_models import (build_benchmark_model,
                                                segmentation_train_step)
from glore_mm.analysis.cost import (classification_batch,
                                    config_train_step_call, time_train_steps,
                                    train_step_call)
from glore_mm.apis import init_model

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
FASHION = CONFIGS / 'mmpretrain' / 'resnet18-cifar_fashion-mnist.py'
GLORE_SEG = CONFIGS / 'mmseg' / 'glore_r50-d8_4xb2-40k_cityscapes-512x1024.py'


def test_classification_batch():
    inputs, samples = classification_batch(5, (1, 6, 7), num_classes=2)
    assert inputs.shape == (5, 1, 6, 7)
    assert 0 <= inputs.min() and inputs.max() < 255
    assert [int(s.gt_label) for s in samples] == [0, 1, 0, 1, 0]


def test_config_train_step_is_the_configs_sgd_step():
    """Steps with the config's optimiser (SGD lr 0.05, momentum 0.9,
    weight decay 5e-4) give the losses of the same steps written out."""
    torch.manual_seed(0)
    inputs, samples = classification_batch(4, (1, 28, 28), num_classes=10)
    cfg = init_model(str(FASHION)).cfg
    torch.manual_seed(1)
    step = config_train_step_call(cfg, inputs, samples)
    torch.manual_seed(1)
    literal = init_model(cfg).train()
    optimizer = torch.optim.SGD(
        literal.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    data = literal.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True)
    losses = []
    for _ in range(2):
        loss, _ = literal.parse_losses(literal(**data, mode='loss'))
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    logged = [float(step()['loss']) for _ in range(2)]
    assert logged == pytest.approx(losses, rel=1e-5)
    assert losses[1] != pytest.approx(losses[0], rel=1e-3)  # it stepped


def test_segmentation_train_step_is_a_literal_sgd_step():
    init_default_scope('mmseg')
    model = build_benchmark_model(str(GLORE_SEG), (32, 64), quick=True)
    literal = copy.deepcopy(model)
    torch.manual_seed(0)
    step = segmentation_train_step(model, 2, (32, 64), num_classes=19)
    logged = float(step()['loss'])
    # the same random batch, stepped as the benchmark did before it used
    # model.train_step
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    inputs = torch.rand(2, 3, 32, 64) * 255
    samples = []
    for _ in range(2):
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(32, 64), pad_shape=(32, 64), ori_shape=(32, 64)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 32, 64)))
        samples.append(sample)
    optimizer = torch.optim.SGD(literal.parameters(), lr=1e-3, momentum=0.9)
    literal.train()
    data = literal.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True)
    loss, _ = literal.parse_losses(literal(**data, mode='loss'))
    loss.backward()
    optimizer.step()
    assert logged == pytest.approx(float(loss), rel=1e-5)
    for (name, a), b in zip(model.state_dict().items(),
                            literal.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_train_step_call_refuses_uneven_batches():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='got 3 inputs and 2 data samples'):
        train_step_call(model, torch.zeros(3, 2), [None, None], None)


def test_time_train_steps_runs_each_step_interleaved():
    calls = []
    steps = {
        'a': lambda: calls.append('a'),
        'b': lambda: calls.append('b'),
    }
    seconds = time_train_steps(steps, repeats=3, warmup=1)
    assert list(seconds) == ['a', 'b']
    assert all(isinstance(s, float) for s in seconds.values())
    # a warm-up round, then rounds in alternating order
    assert calls == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']
