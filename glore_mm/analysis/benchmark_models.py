# Copyright (c) glore_mm contributors. All rights reserved.
"""Segmentation models side by side: counts, latency, training steps.

The machinery of ``tools/analysis_tools/benchmark_models.py``. Each model
is built from its config without pretrained weights and with SyncBN turned
into BN; it gets the parameters and FLOPs of its inference path (backbone
and decode head, as ``tools/analysis_tools/get_flops.py`` counts them), the
latency and peak memory of ``model(inputs, mode='tensor')``, and the time
and peak memory of a training step (forward with the auxiliary head,
backward, SGD step). The models are timed interleaved, call by call
(:func:`~glore_mm.analysis.benchmark.time_interleaved`); memory is the peak
allocated during the call above what was allocated before it.
"""
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from glore_mm.apis import init_model, load_config
from .benchmark import MiB, Timer, time_interleaved
from .complexity import TensorForward, count_complexity
from .cost import StepCall, train_step_call
from .report import machine_line, markdown_table

COLUMNS = ('model', 'params (M)', 'GFLOPs (mmengine)', 'GFLOPs (+baddbmm)',
           'infer ms', 'infer MiB', 'train step ms', 'train step / FCN',
           'train it/s', 'train MiB')
# quick runs: ResNet-18 with 8 base channels, as tests/data/configs does
TINY = dict(
    backbone=dict(depth=18, stem_channels=8, base_channels=8),
    decode_head=dict(in_channels=64, channels=16),
    auxiliary_head=dict(in_channels=32, channels=8))


def build_benchmark_model(path: str, train_shape: Tuple[int, int],
                          quick: bool) -> nn.Module:
    """The config's model: no pretrained weights, BN instead of SyncBN.

    Training batches are padded to ``train_shape`` (the configs pad to
    their 512x1024 crop).

    Args:
        path (str): The config, a file or ``mmseg::...``.
        train_shape (tuple[int, int]): Height and width of the training
            batches.
        quick (bool): Shrink the model to :data:`TINY`.

    Returns:
        nn.Module: The model, seeded and initialised, on the CPU.
    """
    cfg = load_config(path)
    cfg.model.pretrained = None
    cfg.model.backbone.init_cfg = None
    cfg.model.data_preprocessor.size = train_shape
    if quick:
        for key, value in TINY.items():
            cfg.model[key].update(value)
    torch.manual_seed(0)
    return init_model(cfg, init_weights=True)


def count_inference_path(model: nn.Module,
                         shape: Tuple[int, int]) -> Dict[str, int]:
    """Params and FLOPs of the inference path (backbone and decode head).

    FLOPs twice, from one run of
    :func:`~glore_mm.analysis.complexity.count_complexity`: without the
    products of ``aten::baddbmm``, which is what mmengine 0.10 counts on
    its own (it has no handle for it, and the GloRe unit multiplies with
    it), and with them. A multiply-add is one FLOP, as mmengine counts.

    Args:
        model (nn.Module): An mmseg segmentor.
        shape (tuple[int, int]): Height and width of the one input image.

    Returns:
        dict[str, int]: ``params`` (without the auxiliary head's, which
        only trains), ``flops`` and ``flops_baddbmm``.
    """
    result = count_complexity(
        TensorForward(model), (torch.rand(1, 3, *shape), ))
    params = sum(p.numel() for name, p in model.named_parameters()
                 if not name.startswith('auxiliary_head.'))
    return dict(
        params=params,
        flops=result['flops'] - result['by_operator'].get('baddbmm', 0),
        flops_baddbmm=result['flops'])


def segmentation_train_step(model: nn.Module, batch: int, shape: Tuple[int,
                                                                       int],
                            num_classes: int) -> StepCall:
    """One training step on random images and labels.

    Args:
        model (nn.Module): An mmseg segmentor.
        batch (int): Images per step.
        shape (tuple[int, int]): Their height and width.
        num_classes (int): Labels are drawn from ``range(num_classes)``.

    Returns:
        Callable[[], dict]: ``model.train_step`` (forward with the
        auxiliary head, backward) with an SGD step
        (:func:`~glore_mm.analysis.cost.train_step_call`).
    """
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
    return train_step_call(model, inputs, samples, OptimWrapper(optimizer))


def infer_call(model: nn.Module, shape: Tuple[int, int]) -> Callable[[], None]:
    """``model(inputs, mode='tensor')`` on one random image, eval, no grad.
    """
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


def timed(calls: Dict[str, Callable[[], None]], repeats: int,
          timer: Timer) -> Dict[str, Tuple[float, int]]:
    """Median seconds and peak bytes of each call, timed interleaved.

    The call that measures the peak is the warm-up.
    """
    peaks = {name: timer.peak_memory(call) for name, call in calls.items()}
    timings = time_interleaved(calls, repeats, warmup=0, timer=timer)
    return {t.name: (t.median, peaks[t.name]) for t in timings}


def benchmark_models(configs: Dict[str, str],
                     infer_shape: Tuple[int, int],
                     train_shape: Tuple[int, int],
                     train_batch: int,
                     repeats: int,
                     device: str,
                     quick: bool,
                     log: Callable[[str], None] = print) -> Dict[str, Dict]:
    """Count, then time, every model; log each stage's figures.

    FLOPs are counted on the CPU, then the models move to ``device`` and
    are timed, all inference calls interleaved, then all training steps.

    Args:
        configs (dict[str, str]): Model name to its config.
        infer_shape (tuple[int, int]): Input size of counts and inference.
        train_shape (tuple[int, int]): Input size of the training step.
        train_batch (int): Images per training step.
        repeats (int): Timed calls per model.
        device (str): ``'cpu'`` or ``'cuda'``.
        quick (bool): Tiny models (:data:`TINY`).
        log (Callable[[str], None]): Where progress goes. Defaults to
            ``print``.

    Returns:
        dict[str, dict]: Per model, in the order of ``configs``: those of
        :func:`count_inference_path`, ``infer_seconds``,
        ``infer_peak_bytes``, ``train_step_seconds``,
        ``train_step_peak_bytes`` and ``model_state_bytes``.
    """
    timer = Timer(device)
    models, counts = {}, {}
    for name, path in configs.items():
        models[name] = build_benchmark_model(path, train_shape, quick)
        # counted on the CPU, then timed on the device
        counts[name] = count_inference_path(models[name], infer_shape)
        models[name] = models[name].to(device)
        log(f'{name}: {counts[name]}')
    infer = timed({
        n: infer_call(m, infer_shape)
        for n, m in models.items()
    }, repeats, timer)
    log(f'inference: {infer}')
    train = timed(
        {
            n:
            segmentation_train_step(m, train_batch, train_shape,
                                    m.decode_head.num_classes)
            for n, m in models.items()
        }, repeats, timer)
    log(f'train step: {train}')
    return {
        n:
        dict(
            counts[n],
            infer_seconds=infer[n][0],
            infer_peak_bytes=infer[n][1],
            train_step_seconds=train[n][0],
            train_step_peak_bytes=train[n][1],
            model_state_bytes=state_bytes(models[n]))
        for n in models
    }


def result_rows(results: Dict[str, Dict]) -> List[List[str]]:
    """The rows of the table of :data:`COLUMNS`; ratios are to FCN's."""
    fcn = results['FCN']['train_step_seconds']
    rows = []
    for name, r in results.items():
        train_mib = (r['train_step_peak_bytes'] + r['model_state_bytes']) / MiB
        rows.append([
            name, f"{r['params'] / 1e6:.3f}", f"{r['flops'] / 1e9:.1f}",
            f"{r['flops_baddbmm'] / 1e9:.1f}",
            f"{r['infer_seconds'] * 1e3:.0f}",
            f"{r['infer_peak_bytes'] / MiB:.0f}",
            f"{r['train_step_seconds'] * 1e3:.0f}",
            f"{r['train_step_seconds'] / fcn:.3f}",
            f"{1 / r['train_step_seconds']:.2f}", f'{train_mib:.0f}'
        ])
    return rows


def report(results: Dict[str, Dict], info: Dict[str, str], command: str,
           infer_shape: Tuple[int, int], train_shape: Tuple[int, int],
           train_batch: int, configs: Dict[str, str]) -> str:
    """The markdown report: command, machine, the table, what it means.

    Args:
        results (dict[str, dict]): From :func:`benchmark_models`.
        info (dict[str, str]): From
            :func:`~glore_mm.analysis.benchmark.benchmark_machine`.
        command (str): The command as run.
        infer_shape (tuple[int, int]): Input size of counts and inference.
        train_shape (tuple[int, int]): Input size of the training step.
        train_batch (int): Images per training step.
        configs (dict[str, str]): Model name to its config as shown.

    Returns:
        str: The report.
    """
    return '\n'.join([
        '# Segmentation models: FCN, GloRe, Non-local', '',
        f'Command: `{command}`', '',
        machine_line(info), '',
        markdown_table(COLUMNS, result_rows(results)), '',
        f'Params and FLOPs: backbone and decode head at '
        f'1x3x{infer_shape[0]}x{infer_shape[1]}; a multiply-add is one '
        'FLOP. infer: `model(inputs, mode=\'tensor\')` at the same input, '
        'eval, no grad; MiB is its peak memory. train step: batch '
        f'{train_batch} at {train_shape[0]}x{train_shape[1]}, '
        'forward with the auxiliary head, backward, SGD step; BN instead '
        'of SyncBN, no pretrained weights, random images and labels. '
        'train it/s: 1 / the median step. train MiB: the step\'s peak '
        'above what was allocated before it (gradients, momentum, '
        'activations), plus the model\'s own weights and buffers: the '
        'peak of a process training this model alone. Configs: ' +
        ', '.join(f'{n}: `{p}`' for n, p in configs.items()), ''
    ])
