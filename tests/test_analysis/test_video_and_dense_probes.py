# Copyright (c) glore_mm contributors. All rights reserved.
"""The temporal receptive field of video backbones (checked against frames
counted by hand, for clips and for frames folded into the batch) and the
random batches that time a training step of a segmentor or a recognizer."""
from pathlib import Path

import torch
import torch.nn as nn

from glore_mm.analysis.cost import (action_batch, config_train_step_call,
                                    segmentation_batch)
from glore_mm.analysis.probes import receptive_frames
from glore_mm.apis import init_model

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
I3D = (
    CONFIGS / 'mmaction' / 'i3d_r18-w8_1xb16-8x1x1-3e_fashion-mnist-clips.py')
C2D = (
    CONFIGS / 'mmaction' / 'c2d_r18-w16_1xb16-8x1x1-6e_fashion-mnist-clips.py')
DENSE = (
    CONFIGS / 'mmseg' /
    'glore_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py')


class Clip3d(nn.Module):
    """A 3x1x1 conv, then a 5x1x1 conv of temporal stride 2, as res
    layers on clips ``[N, C, T, H, W]``."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Conv3d(1, 2, (3, 1, 1), padding=(1, 0, 0))
        self.layer2 = nn.Conv3d(2, 2, (5, 1, 1), (2, 1, 1), (2, 0, 0))
        self.res_layers = ['layer1', 'layer2']

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(self.layer1(x))


class FramesInBatch(nn.Module):
    """A 2-D conv per frame, then a 2-frame mean, with the frames in the
    batch axis as C2D keeps them."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Conv2d(1, 2, 3, padding=1)
        self.layer2 = nn.Identity()
        self.res_layers = ['layer1', 'layer2']

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c, h, w)
        out = self.layer1(frames)  # [N*T, C, H, W]
        pairs = out.reshape(n, t // 2, 2, *out.shape[1:]).mean(2)
        return self.layer2(pairs.flatten(0, 1))  # [N*T/2, C, H, W]


def test_receptive_frames_counted_by_hand():
    torch.manual_seed(0)
    # 3 frames, then 3 + 4 * 1 = 7 (the 5-tap kernel on frames 1 apart)
    assert receptive_frames(Clip3d(), (1, 16, 3, 3)) == [3, 7]
    # cut at the edges: 4 frames keep 3, then all 4
    assert receptive_frames(Clip3d(), (1, 4, 3, 3)) == [3, 4]
    # frame by frame, then the two frames of a pair
    assert receptive_frames(FramesInBatch(), (1, 8, 5, 5)) == [1, 2]


def test_receptive_frames_of_the_clips_backbones():
    """I3D-18 inflates both 3x3x3 convs of every block: 5 frames (conv1)
    + 2 blocks x 2 convs x 2 = 13 at res2; pool2 (2 frames, stride 2)
    makes 14, then 8 convs at stride 2 add 16 per stage (cut at 16). C2D
    mixes frames only in its 2-frame pool after res2."""
    torch.manual_seed(0)
    i3d = init_model(str(I3D)).backbone
    assert receptive_frames(i3d, (3, 64, 32, 32)) == [13, 30, 46, 62]
    assert receptive_frames(i3d, (3, 16, 32, 32)) == [13, 16, 16, 16]
    c2d = init_model(str(C2D)).backbone
    assert receptive_frames(c2d, (3, 16, 32, 32)) == [1, 2, 2, 2]


def test_segmentation_batch_trains_a_segmentor():
    torch.manual_seed(0)
    inputs, samples = segmentation_batch(3, (1, 16, 24), num_classes=3)
    assert inputs.shape == (3, 1, 16, 24)
    assert 0 <= inputs.min() and inputs.max() < 255
    for sample in samples:
        labels = sample.gt_sem_seg.data
        assert labels.shape == (1, 16, 24)
        assert set(labels.unique().tolist()) == {0, 1, 2}
        assert sample.img_shape == sample.ori_shape == (16, 24)
    cfg = init_model(str(DENSE)).cfg
    step = config_train_step_call(cfg, inputs, samples)
    losses = [float(step()['loss']) for _ in range(2)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[0] != losses[1]  # it stepped


def test_action_batch_trains_a_recognizer():
    torch.manual_seed(0)
    inputs, samples = action_batch(4, (1, 3, 4, 32, 32), num_classes=2)
    assert inputs.shape == (4, 1, 3, 4, 32, 32)
    assert [int(s.gt_label) for s in samples] == [0, 1, 0, 1]
    cfg = init_model(str(I3D)).cfg
    step = config_train_step_call(cfg, inputs, samples)
    losses = [float(step()['loss']) for _ in range(2)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[0] != losses[1]
