# Copyright (c) glore_mm contributors. All rights reserved.
"""Constants and functions of the mmdet tests that run the tools."""
import re
from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np
import torch

from glore_mm.datasets.fashion_mnist_detection import (
    ann_file, make_fashion_mnist_detection)
from tests.fashion_mnist_files import fashion_arrays, write_fashion_src
from tests.tool_runner import REPO

DET_CONFIG = (
    REPO / 'tests' / 'data' / 'configs' / 'tiny_mmdet' /
    'mask-rcnn_r50-w8-glore-res4x3_fpn_1xb2-1e_tiny-fashion-mnist-'
    'detection.py')
NUM_TRAIN, NUM_VAL = 4, 2
# The metrics mmdet's CocoMetric reports, box and mask
AP_KEYS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP',
           'coco/segm_mAP_50')
METRIC = re.compile(r'(coco/\w+): (-?\d+\.\d+)')


def make_detection_set(root: Path) -> Path:
    """A tiny Fashion-MNIST detection set of generated IDX items:
    :data:`NUM_TRAIN` train and :data:`NUM_VAL` val canvases."""
    src = write_fashion_src(root / 'idx',
                            fashion_arrays({
                                'train': 20,
                                't10k': 10
                            }))
    out = root / 'fashion_mnist_detection'
    make_fashion_mnist_detection(
        str(src), str(out), num_train=NUM_TRAIN, num_val=NUM_VAL)
    return out


def det_options(data_root: Path) -> List[str]:
    """The data root of every split and of the metric, as
    ``--cfg-options``."""
    return [
        '--cfg-options', *[
            f'{split}_dataloader.dataset.data_root={data_root}/'
            for split in ('train', 'val', 'test')
        ], *[
            f'{split}_evaluator.ann_file={data_root / ann_file("val")}'
            for split in ('val', 'test')
        ]
    ]


def coco_metrics(text: str) -> Dict[str, float]:
    """The last value of every ``coco/...`` metric in a log."""
    return {key: float(value) for key, value in METRIC.findall(text)}


def check_ap(metrics: Dict[str, float]) -> None:
    """Box and mask AP were computed: numbers in [0, 1]."""
    for key in AP_KEYS:
        assert key in metrics, (key, sorted(metrics))
        assert 0 <= metrics[key] <= 1, (key, metrics[key])


def dense_masks(masks: Union[torch.Tensor, List[Dict]],
                shape: Tuple[int, int]) -> np.ndarray:
    """The ``(N, H, W)`` bool masks of dumped predictions: a tensor
    (MMEngine's ``DumpResults``) or COCO RLE (mmdet's ``DumpDetResults``,
    mmdet's ``DetInferencer``)."""
    if isinstance(masks, torch.Tensor):
        return masks.numpy().astype(bool)
    from pycocotools import mask as mask_utils
    decoded = [mask_utils.decode(m).astype(bool) for m in masks]
    return np.array(decoded).reshape(len(masks), *shape)
