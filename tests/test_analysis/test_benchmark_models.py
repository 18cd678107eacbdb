# Copyright (c) glore_mm contributors. All rights reserved.
"""The machinery of the model benchmark: its FLOPs are mmengine's."""
from pathlib import Path

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.registry import init_default_scope

from glore_mm.analysis import TensorForward
from glore_mm.analysis.benchmark_models import (build_benchmark_model,
                                                count_inference_path)

GLORE = (
    Path(__file__).resolve().parents[2] / 'configs' / 'mmseg' /
    'glore_r50-d8_4xb2-40k_cityscapes-512x1024.py')


def test_models_flops_are_mmengines():
    """FLOPs without the baddbmm handle: get_model_complexity_info's."""
    init_default_scope('mmseg')
    model = build_benchmark_model(str(GLORE), (32, 64), quick=True)
    counts = count_inference_path(model, (32, 64))
    with torch.no_grad():
        info = get_model_complexity_info(
            TensorForward(model).eval(),
            inputs=(torch.rand(1, 3, 32, 64), ),
            show_table=False,
            show_arch=False)
    assert counts['flops'] == info['flops']
    assert counts['flops_baddbmm'] > counts['flops']
    assert counts['params'] == sum(p.numel()
                                   for name, p in model.named_parameters()
                                   if not name.startswith('auxiliary_head.'))
