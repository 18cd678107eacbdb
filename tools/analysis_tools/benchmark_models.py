# Copyright (c) glore_mm contributors. All rights reserved.
"""FCN, GloRe and Non-local segmentation models side by side.

Builds FCN-R50-D8 (mmseg), our GloRe head on the same network and mmseg's
NLHead model, each from its Cityscapes 512x1024 config, without pretrained
weights and with SyncBN turned into BN, and reports for each: parameters
and FLOPs of the inference path (backbone and decode head, as
``tools/analysis_tools/get_flops.py`` counts them), the inference latency
and peak memory at the same input (``model(inputs, mode='tensor')``), and
the time of a training step (forward with the auxiliary head, backward,
SGD step) at a smaller input that fits a workstation, with its ratio to
FCN's.

Timings use the machinery of ``benchmark_units.py`` beside this file: the
models are timed interleaved, call by call, so that load from other
processes spreads over them alike; memory is the peak allocated during the
call above what was allocated before it.

Example:
    python tools/analysis_tools/benchmark_models.py \\
        --out-dir work_dirs/benchmark_models
    python tools/analysis_tools/benchmark_models.py --device cuda \\
        --train-shape 512 1024 --repeats 10 --out-dir work_dirs/bench_cuda
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from glore_mm.analysis import TensorForward, flop_analyzer
from glore_mm.utils import quiet_mmengine_logger

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_units import (  # isort:skip # noqa: E402
    MiB, Timer, machine_info, markdown_table, write_atomic)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {
    'FCN':
    'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'GloRe':
    osp.join(REPO, 'configs', 'mmseg',
             'glore_r50-d8_4xb2-40k_cityscapes-512x1024.py'),
    'Non-local':
    'mmseg::nonlocal_net/'
    'nonlocal_r50-d8_4xb2-40k_cityscapes-512x1024.py',
}
COLUMNS = ('model', 'params (M)', 'GFLOPs (mmengine)', 'GFLOPs (+baddbmm)',
           'infer ms', 'infer MiB', 'train step ms', 'train step / FCN',
           'train it/s', 'train MiB')
# --quick: ResNet-18 with 8 base channels, as tests/data/configs does
TINY = dict(
    backbone=dict(depth=18, stem_channels=8, base_channels=8),
    decode_head=dict(in_channels=64, channels=16),
    auxiliary_head=dict(in_channels=32, channels=8))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='FCN, GloRe and Non-local models side by side')
    parser.add_argument(
        '--infer-shape',
        type=int,
        nargs=2,
        default=[512, 1024],
        help='input height and width of the inference rows')
    parser.add_argument(
        '--train-shape',
        type=int,
        nargs=2,
        default=[256, 512],
        help='input height and width of the training step')
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument(
        '--repeats', type=int, default=3, help='timed calls per model')
    parser.add_argument('--threads', type=int)
    parser.add_argument(
        '--device',
        default='cpu',
        choices=['cpu', 'cuda'],
        help='cuda: CUDA-event timings, torch.cuda.max_memory_allocated, '
        'TF32 off')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny models and inputs: checks that the tool works')
    parser.add_argument('--out-dir', default='work_dirs/benchmark_models')
    return parser.parse_args(argv)


def load_config(path: str) -> Config:
    return get_config(path) if '::' in path else Config.fromfile(path)


def build_model(path: str, train_shape: Tuple[int, int],
                quick: bool) -> nn.Module:
    """The config's model: no pretrained weights, BN instead of SyncBN.

    Training batches are padded to ``train_shape`` (the configs pad to
    their 512x1024 crop).
    """
    model_cfg = copy.deepcopy(load_config(path).model)
    model_cfg.pretrained = None
    model_cfg.backbone.init_cfg = None
    model_cfg.data_preprocessor.size = train_shape
    if quick:
        for key, value in TINY.items():
            model_cfg[key].update(value)
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    with quiet_mmengine_logger():
        model.init_weights()
    return revert_sync_batchnorm(model)


def count(model: nn.Module, shape: Tuple[int, int]) -> Dict[str, float]:
    """Params and FLOPs of the inference path (backbone and decode head).

    FLOPs twice, from one run of the project's counter
    (:func:`glore_mm.analysis.flop_analyzer`): without the products of
    ``aten::baddbmm``, which is what mmengine 0.10 counts on its own (it has
    no handle for it, and the GloRe unit multiplies with it), and with
    them. A multiply-add is one FLOP, as mmengine counts.
    """
    wrapped = TensorForward(model).eval()
    inputs = (torch.rand(1, 3, *shape), )
    with torch.no_grad(), quiet_mmengine_logger():
        by_operator = flop_analyzer(wrapped, inputs).by_operator()
    total = sum(by_operator.values())
    # get_model_complexity_info counts the auxiliary head's parameters too
    params = sum(p.numel() for name, p in model.named_parameters()
                 if not name.startswith('auxiliary_head.'))
    return dict(
        params=params,
        flops=total - by_operator.get('baddbmm', 0),
        flops_baddbmm=total)


def train_step_call(model: nn.Module, batch: int, shape: Tuple[int, int],
                    num_classes: int):
    """One training step on random images and labels."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    device = next(model.parameters()).device
    inputs = torch.rand(batch, 3, *shape, device=device) * 255
    samples = []
    for _ in range(batch):
        sample = SegDataSample(
            metainfo=dict(img_shape=shape, pad_shape=shape, ori_shape=shape))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *shape), device=device))
        samples.append(sample)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def call() -> None:
        model.train()
        data = model.data_preprocessor(
            dict(inputs=list(inputs), data_samples=samples), True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return call


def infer_call(model: nn.Module, shape: Tuple[int, int]):
    inputs = torch.rand(1, 3, *shape, device=next(model.parameters()).device)
    wrapped = TensorForward(model)

    def call() -> None:
        model.eval()
        with torch.no_grad():
            wrapped(inputs)

    return call


def state_bytes(model: nn.Module) -> int:
    """Bytes of the model's parameters and buffers."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def timed(calls: Dict[str, callable], repeats: int,
          timer: Timer) -> Dict[str, Tuple[float, int]]:
    """Median seconds and peak bytes of each call, timed interleaved."""
    peaks = {name: timer.peak_memory(call) for name, call in calls.items()}
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            times[name].append(timer.time(call))
    return {
        name: (statistics.median(times[name]), peaks[name])
        for name in calls
    }


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda was given, but torch.cuda.is_available() is '
                 f'False (torch {torch.__version__}, built with CUDA '
                 f'{torch.version.cuda}); use --device cpu')
    if args.device == 'cuda':
        # fp32 is fp32, as in benchmark_units.py
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.infer_shape, args.train_shape = [32, 64], [32, 64]
        args.repeats = min(args.repeats, 2)
    infer_shape, train_shape = tuple(args.infer_shape), tuple(args.train_shape)
    command = 'python ' + ' '.join([osp.relpath(__file__)] +
                                   (sys.argv[1:] if argv is None else argv))
    init_default_scope('mmseg')
    timer = Timer(args.device)

    models, counts, infer, train = {}, {}, {}, {}
    for name, path in MODELS.items():
        models[name] = build_model(path, train_shape, args.quick)
        # counted on the CPU, then timed on the device
        counts[name] = count(models[name], infer_shape)
        models[name] = models[name].to(args.device)
        print(f'{name}: {counts[name]}', flush=True)
    infer = timed({
        n: infer_call(m, infer_shape)
        for n, m in models.items()
    }, args.repeats, timer)
    print(f'inference: {infer}', flush=True)
    train = timed(
        {
            n:
            train_step_call(m, args.train_batch, train_shape,
                            m.decode_head.num_classes)
            for n, m in models.items()
        }, args.repeats, timer)
    print(f'train step: {train}', flush=True)

    rows = []
    for name in models:
        c = counts[name]
        rows.append([
            name, f"{c['params'] / 1e6:.3f}", f"{c['flops'] / 1e9:.1f}",
            f"{c['flops_baddbmm'] / 1e9:.1f}", f'{infer[name][0] * 1e3:.0f}',
            f'{infer[name][1] / MiB:.0f}', f'{train[name][0] * 1e3:.0f}',
            f"{train[name][0] / train['FCN'][0]:.3f}",
            f'{1 / train[name][0]:.2f}',
            f'{(train[name][1] + state_bytes(models[name])) / MiB:.0f}'
        ])
    info = machine_info(argparse.Namespace(device=args.device, dtype='fp32'))
    text = '\n'.join([
        '# Segmentation models: FCN, GloRe, Non-local', '',
        f'Command: `{command}`', '',
        'Machine: ' + ', '.join(f'{k} {v}' for k, v in info.items()), '',
        markdown_table(COLUMNS, rows), '',
        f'Params and FLOPs: backbone and decode head at '
        f'1x3x{infer_shape[0]}x{infer_shape[1]}; a multiply-add is one '
        'FLOP. infer: `model(inputs, mode=\'tensor\')` at the same input, '
        'eval, no grad; MiB is its peak memory. train step: batch '
        f'{args.train_batch} at {train_shape[0]}x{train_shape[1]}, '
        'forward with the auxiliary head, backward, SGD step; BN instead '
        'of SyncBN, no pretrained weights, random images and labels. '
        'train it/s: 1 / the median step. train MiB: the step\'s peak '
        'above what was allocated before it (gradients, momentum, '
        'activations), plus the model\'s own weights and buffers: the '
        'peak of a process training this model alone. Configs: ' +
        ', '.join(f'{n}: `{osp.relpath(p, REPO) if osp.isabs(p) else p}`'
                  for n, p in MODELS.items()), ''
    ])
    print('\n' + text)
    write_atomic(osp.join(args.out_dir, 'benchmark_models.md'), text.encode())
    data = dict(
        machine=info,
        results={
            n:
            dict(
                counts[n],
                infer_seconds=infer[n][0],
                infer_peak_bytes=infer[n][1],
                train_step_seconds=train[n][0],
                train_step_peak_bytes=train[n][1],
                model_state_bytes=state_bytes(models[n]))
            for n in models
        })
    write_atomic(
        osp.join(args.out_dir, 'benchmark_models.json'),
        json.dumps(data, indent=1).encode())
    print(f'\nwrote {args.out_dir}/benchmark_models.{{md,json}}')


if __name__ == '__main__':
    main()
