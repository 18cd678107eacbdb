# Copyright (c) glore_mm contributors. All rights reserved.
"""Speed and memory of the GloRe unit, the paper's literal unit, Non-local.

Runs, side by side in one process and for each size, three blocks that all
map ``[N, C, *spatial]`` to the same shape:

- ``ours``: :class:`GloRe2d` / :class:`GloRe3d` from glore_mm;
- ``literal``: :class:`LiteralGloRe` below, the unit as the paper and the
  authors' code (facebookresearch/GloRe) write it: two 1x1 convs, the graph
  convolution as two Conv1d with permutes, plain matmuls, BN. It computes
  the same function as ours; that is checked on the first size of each
  dimensionality with ours' weights copied in;
- ``nonlocal``: mmcv's ``NonLocal2d`` / ``NonLocal3d``, embedded Gaussian,
  reduction 2, BN after the output conv: the block of mmseg's NLHead.

Figures per block (see ``docs/benchmark.md`` for the definitions): median
time of the inference forward (eval mode, no grad) and of a training
forward+backward (train mode, input and weights require grad); the peak
memory of the call above what was allocated before it; multiply-adds
counted analytically per matrix product (elementwise work not counted);
the achieved multiply-add rate as a fraction of a dense matmul's, timed
between the blocks in the same rounds; and time and memory ratios of ours
to the others. A plot shows time and memory of training steps against the
number of positions, log-log. Blocks
whose estimated memory exceeds the budget are not run and are reported as
``OOM: needs X GiB``; a run that fails to allocate is reported likewise.

Example:
    python tools/analysis_tools/benchmark_units.py --out-dir work_dirs/bench
    python tools/analysis_tools/benchmark_units.py --device cuda --dtype bf16
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn.bricks import NonLocal2d, NonLocal3d

from glore_mm.models.layers.glore import GloRe2d, GloRe3d, _nodes_first

IMPLS = ('ours', 'literal', 'nonlocal')
DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
GiB = 1024**3
MiB = 1024**2
# Columns of the two tables; the tests check them.
RESULT_COLUMNS = ('size', 'block', 'input', 'L', 'fwd ms', 'fwd+bwd ms',
                  'fwd MiB', 'fwd+bwd MiB', 'fwd GMAC', 'fwd % matmul',
                  'fwd+bwd % matmul')
RATIO_COLUMNS = ('size', 'L', 'fwd ours/literal', 'fwd+bwd ours/literal',
                 'fwd ours/nonlocal', 'fwd+bwd ours/nonlocal',
                 'fwd+bwd MiB ours/literal', 'fwd+bwd MiB ours/nonlocal')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time and memory of GloRe (ours), the literal GloRe '
        'unit and Non-local, side by side')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--dtype',
        default='fp32',
        choices=sorted(DTYPES),
        help='fp32, or autocast to bf16/fp16 (the matmul rate is then '
        'measured in that dtype)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny sizes and few repeats: checks that the tool works, '
        'the numbers mean nothing')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/benchmark_units',
        help='where benchmark_units.{md,json,png} are written')
    parser.add_argument(
        '--mem-limit-gb',
        type=float,
        help='memory budget per call; blocks estimated to need more are '
        'reported as OOM without running. Defaults to 80%% of the '
        'available memory (MemAvailable, or free GPU memory)')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads (torch.set_num_threads); defaults to torch\'s')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed calls per block after the warm-up call')
    parser.add_argument(
        '--time-budget',
        type=float,
        default=20.0,
        help='seconds of timed calls per block and mode, about: slower '
        'blocks get fewer than --repeats calls, at least one after the '
        'warm-up')
    parser.add_argument(
        '--sweep-channels',
        type=int,
        default=128,
        help='channels of the sweep over the number of positions')
    return parser.parse_args(argv)


# --------------------------------------------------------------------------
# The literal unit: the paper's order of operations, as the authors wrote it


class LiteralGCN(nn.Module):
    """The authors' graph convolution: two Conv1d with permutes."""

    def __init__(self, num_state: int, num_node: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(num_node, num_node, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv1d(num_state, num_state, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N, num_state, num_node] -> [N, num_node, num_state] and back
        h = self.conv1(x.permute(0, 2, 1).contiguous()).permute(0, 2, 1)
        h = h + x
        return self.conv2(self.relu(h))


class LiteralGloRe(nn.Module):
    """The GloRe unit as the paper and the authors' code write it.

    ``x + BN(W_e · ((GCN((W_s x) · (W_p x)^T)) · (W_p x)))``, each 1x1 conv
    applied to every position, in the paper's order.
    """

    # its state-dict keys -> those of glore_mm's unit
    KEY_MAP = {
        'gcn.conv1': 'gcn.conv_node',
        'gcn.conv2': 'gcn.conv_state',
        'blocker': 'norm'
    }

    def __init__(self,
                 in_channels: int,
                 dims: int,
                 normalize: bool = False) -> None:
        super().__init__()
        conv = {2: nn.Conv2d, 3: nn.Conv3d}[dims]
        norm = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims]
        self.normalize = normalize
        self.num_s = in_channels // 2
        self.num_n = in_channels // 4
        self.conv_state = conv(in_channels, self.num_s, kernel_size=1)
        self.conv_proj = conv(in_channels, self.num_n, kernel_size=1)
        self.gcn = LiteralGCN(num_state=self.num_s, num_node=self.num_n)
        self.conv_extend = conv(
            self.num_s, in_channels, kernel_size=1, bias=False)
        self.blocker = norm(in_channels, eps=1e-4)

    @classmethod
    def from_unit(cls, unit: nn.Module) -> 'LiteralGloRe':
        """A literal unit holding a copy of ``unit``'s weights."""
        literal = cls(unit.in_channels, unit.spatial_dims, unit.normalize)
        if (literal.num_s, literal.num_n) != (unit.num_state, unit.num_node):
            raise ValueError('the literal unit has the paper\'s sizes only')
        state = unit.state_dict()
        for key in literal.state_dict():
            ours = key
            for theirs, mine in cls.KEY_MAP.items():
                ours = ours.replace(theirs + '.', mine + '.')
            literal.state_dict()[key].copy_(state[ours])
        return literal.to(next(unit.parameters()).device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        # [N, num_s, L], [N, num_n, L]
        x_state = self.conv_state(x).view(n, self.num_s, -1)
        x_proj = self.conv_proj(x).view(n, self.num_n, -1)
        # [N, num_s, num_n]
        x_n_state = torch.matmul(x_state, x_proj.permute(0, 2, 1))
        if self.normalize:
            x_n_state = x_n_state * (1. / x_state.size(2))
        x_n_rel = self.gcn(x_n_state)
        # [N, num_s, L] -> [N, num_s, *spatial]
        x_state = torch.matmul(x_n_rel, x_proj)
        x_state = x_state.view(n, self.num_s, *x.size()[2:])
        return x + self.blocker(self.conv_extend(x_state))


def build_blocks(dims: int, channels: int,
                 device: str) -> Dict[str, nn.Module]:
    """Ours, the literal unit with ours' weights, and Non-local.

    2D units normalise (as in the segmentation head), 3D ones do not (the
    paper's video networks). Every gate is opened (random), so no block
    computes a trivial residual.
    """
    torch.manual_seed(0)
    unit = {2: GloRe2d, 3: GloRe3d}[dims](channels, normalize=dims == 2)
    nonlocal_block = {
        2: NonLocal2d,
        3: NonLocal3d
    }[dims](
        channels,
        reduction=2,
        use_scale=True,
        norm_cfg=dict(type='BN' if dims == 2 else 'BN3d'),
        mode='embedded_gaussian')
    with torch.no_grad():
        for norm in (unit.norm, nonlocal_block.conv_out.norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.1)
    unit = unit.to(device)
    return {
        'ours': unit,
        'literal': LiteralGloRe.from_unit(unit),
        'nonlocal': nonlocal_block.to(device)
    }


# --------------------------------------------------------------------------
# Sizes


class Case(NamedTuple):
    """One input size: ``[n, channels, *spatial]``."""
    name: str
    dims: int
    n: int
    channels: int
    spatial: Tuple[int, ...]
    modes: Tuple[str, ...]
    sweep: bool = False

    @property
    def length(self) -> int:
        return math.prod(self.spatial)

    @property
    def shape(self) -> Tuple[int, ...]:
        return (self.n, self.channels) + self.spatial

    @property
    def label(self) -> str:
        return 'x'.join(str(s) for s in self.shape)


BOTH = ('infer', 'train')
# the sweep shows training, where Non-local's L x L maps are kept
TRAIN = ('train', )


def make_cases(quick: bool, sweep_channels: int) -> List[Case]:
    if quick:
        sweep = [(8, 8), (16, 16), (16, 32), (32, 32)]
        return [
            Case('head', 2, 2, 32, (8, 16), BOTH),
            Case('whole', 2, 1, 32, (16, 32), ('infer', )),
        ] + [Case('sweep', 2, 1, 16, hw, TRAIN, sweep=True)
             for hw in sweep] + [Case('video', 3, 2, 32, (2, 4, 4), BOTH)]
    # 1k to 32k positions
    sweep = [(32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256)]
    return [
        # FCN head at Cityscapes training crops: 512x1024 at 1/8
        Case('head 512x1024 crop', 2, 2, 512, (64, 128), BOTH),
        # whole-image inference, 1024x2048 at 1/8
        Case('whole 1024x2048', 2, 1, 512, (128, 256), ('infer', )),
    ] + [
        Case('sweep', 2, 1, sweep_channels, hw, TRAIN, sweep=True)
        for hw in sweep
    ] + [
        # video res4: 1024 channels, 8 frames -> 4, 224 -> 14; 8 clips
        Case('video res4', 3, 8, 1024, (4, 14, 14), BOTH),
    ]


# --------------------------------------------------------------------------
# Counting: multiply-adds and memory, analytically


def count_macs(block: str, case: Case) -> int:
    """Multiply-adds of one forward (all images), matrix products only.

    A training forward+backward does three times as many: each product's
    backward computes the gradients of both of its operands.
    """
    c, length = case.channels, case.length
    s, k = c // 2, c // 4
    graph = k * k * s + s * s * k
    if block == 'literal':
        per_image = length * (c * s + c * k + 2 * s * k + s * c) + graph
    elif block == 'ours':
        # the same order choice as the unit's
        if _nodes_first(c, s, k, length):
            pool = c * k * length + s * c * k
        else:
            pool = c * s * length + s * k * length
        per_image = c * k * length + 2 * pool + graph
    elif block == 'nonlocal':
        inter = c // 2
        per_image = 4 * c * inter * length + 2 * inter * length * length
    else:
        raise KeyError(block)
    return case.n * per_image


def estimate_bytes(block: str, case: Case, mode: str) -> int:
    """An upper estimate of a call's peak memory (fp32), to skip OOM runs.

    Non-local holds two (inference) or three (training) attention maps of
    L x L per image at its peak; the GloRe units hold a few [C, L] maps.
    """
    maps = case.n * case.channels * case.length
    if block == 'nonlocal':
        attention = case.n * case.length**2
        count = 2 * attention + 4 * maps if mode == 'infer' else \
            3 * attention + 8 * maps
    else:
        count = (4 if mode == 'infer' else 8) * maps
    return 4 * count


def memory_budget(device: str, limit_gb: Optional[float]) -> int:
    if limit_gb is not None:
        return int(limit_gb * GiB)
    if device == 'cuda':
        return int(0.8 * torch.cuda.mem_get_info()[0])
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(0.8 * int(line.split()[1]) * 1024)
    except OSError:
        pass
    return int(0.8 * os.sysconf('SC_PAGE_SIZE') *
               os.sysconf('SC_AVPHYS_PAGES'))


# --------------------------------------------------------------------------
# Measuring


class Timer:
    """Wall time (CPU) or CUDA-event time of a call, and its peak memory."""

    def __init__(self, device: str) -> None:
        self.device = device

    def time(self, fn: Callable[[], None]) -> float:
        """Seconds."""
        if self.device == 'cuda':
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def peak_memory(self, fn: Callable[[], None]) -> int:
        """Bytes allocated at the call's peak above what was before it.

        CUDA: ``torch.cuda.max_memory_allocated``. CPU: the CPU allocator's
        allocation and free events recorded by ``torch.profiler`` with
        ``profile_memory=True``, summed in time order.
        """
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            fn()
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - before
        from torch.profiler import ProfilerActivity, profile
        with profile(
                activities=[ProfilerActivity.CPU],
                profile_memory=True) as prof:
            fn()
        events = [(e.start_ns(), e.nbytes())
                  for e in prof.profiler.kineto_results.events()
                  if e.name() == '[memory]'
                  and e.device_type() == torch.autograd.DeviceType.CPU]
        live = peak = 0
        for _, nbytes in sorted(events):
            live += nbytes
            peak = max(peak, live)
        return peak


def make_call(block: nn.Module, x: torch.Tensor, mode: str,
              dtype: torch.dtype) -> Callable[[], None]:
    """One inference forward or one training forward+backward."""
    device = x.device.type
    autocast = (
        torch.autocast(device, dtype=dtype)
        if dtype != torch.float32 else nullcontext())
    if mode == 'infer':
        block.eval()

        def call() -> None:
            with torch.no_grad(), autocast:
                block(x)

        return call
    block.train()
    x = x.detach().requires_grad_()
    grad = torch.randn_like(x)

    def call() -> None:
        with autocast:
            out = block(x)
        out.backward(grad.to(out.dtype))
        # freed within the call: the next one allocates them again, as a
        # training step after optimizer.zero_grad() does
        block.zero_grad(set_to_none=True)
        x.grad = None

    return call


def is_oom(error: BaseException) -> bool:
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(error)
    return any(
        s in text for s in ("can't allocate memory", 'out of memory',
                            'not enough memory'))


def release(device: str) -> None:
    if device == 'cuda':
        torch.cuda.empty_cache()


class Measurement(NamedTuple):
    """Median seconds, peak bytes, or why there is none."""
    seconds: Optional[float] = None
    peak: Optional[int] = None
    oom: Optional[str] = None


class MatmulReference:
    """A dense matmul, timed between the blocks: the machine's rate now.

    On a machine shared with other jobs the achievable rate moves during a
    run; dividing by a reference timed in the same rounds as the blocks
    keeps the "% matmul" columns honest.
    """

    def __init__(self, device: str, dtype: torch.dtype, quick: bool) -> None:
        self.size = 512 if quick else (8192 if device == 'cuda' else 2048)
        self.dtype = str(dtype).replace('torch.', '')
        self.a, self.b, self.out = (
            torch.randn(self.size, self.size, device=device, dtype=dtype)
            for _ in range(3))
        self.timer = Timer(device)
        self.rates: List[float] = []
        for _ in range(2):
            self.call()

    def call(self) -> None:
        torch.mm(self.a, self.b, out=self.out)

    def measure(self) -> float:
        """Multiply-adds per second of one call."""
        rate = self.size**3 / self.timer.time(self.call)
        self.rates.append(rate)
        return rate


def measure_mode(
        blocks: Dict[str, nn.Module], x: torch.Tensor, case: Case, mode: str,
        args: argparse.Namespace, budget: int,
        reference: MatmulReference) -> Tuple[Dict[str, Measurement], float]:
    """Time the blocks in one mode, interleaved call by call.

    Interleaving spreads load from other processes over all blocks alike,
    so their ratios stay meaningful on a busy machine. Each round also
    times the matmul reference; its median rate is returned.
    """
    timer = Timer(args.device)
    dtype = DTYPES[args.dtype]
    results: Dict[str, Measurement] = {}
    calls, first = {}, {}
    for name, block in blocks.items():
        need = estimate_bytes(name, case, mode)
        if need > budget:
            results[name] = Measurement(oom=f'OOM: needs {need / GiB:.3g} GiB '
                                        f'(budget {budget / GiB:.3g})')
            continue
        call = make_call(block, x, mode, dtype)
        try:
            # the first call warms up and gives the peak memory
            start = time.perf_counter()
            peak = timer.peak_memory(call)
            first[name] = time.perf_counter() - start
            if first[name] < 1.0:
                call()
        except (RuntimeError, MemoryError) as error:
            if not is_oom(error):
                raise
            release(args.device)
            results[name] = Measurement(
                oom=f'OOM: needs {need / GiB:.3g} GiB (estimate), '
                'allocation failed')
            continue
        calls[name] = call
        results[name] = Measurement(peak=peak)
    # blocks slower than the time budget allows get fewer calls, never none
    repeats = {
        name: max(1, min(args.repeats, int(args.time_budget / first[name])))
        for name in calls
    }
    times: Dict[str, List[float]] = {name: [] for name in calls}
    rates = []
    for i in range(max(repeats.values(), default=1)):
        rates.append(reference.measure())
        for name, call in calls.items():
            if i < repeats[name]:
                times[name].append(timer.time(call))
    for name in calls:
        results[name] = results[name]._replace(
            seconds=statistics.median(times[name]))
    release(args.device)
    return results, statistics.median(rates)


# --------------------------------------------------------------------------
# Checks


def check_equal(blocks: Dict[str, nn.Module], case: Case, device: str) -> str:
    """Ours and the literal unit: same output and input gradient (fp32).

    Runs on copies (training moves the BN statistics) with ours' weights
    copied into the literal unit. Raises AssertionError if they differ;
    returns a one-line summary.
    """
    torch.manual_seed(1)
    x = torch.randn(case.shape, device=device)
    grad = torch.randn_like(x)
    lines = []
    for mode in ('train', 'eval'):
        ours = copy.deepcopy(blocks['ours']).train(mode == 'train')
        literal = LiteralGloRe.from_unit(ours).train(mode == 'train')
        inputs = [x.clone().requires_grad_() for _ in range(2)]
        outs = [block(inp) for block, inp in zip((ours, literal), inputs)]
        for out in outs:
            out.backward(grad)
        scale = (outs[1] - x).abs().max().item()
        out_err = (outs[0] - outs[1]).abs().max().item() / scale
        grad_err = ((inputs[0].grad - inputs[1].grad).abs().max() /
                    inputs[1].grad.abs().max()).item()
        if not (out_err < 1e-3 and grad_err < 1e-3):
            raise AssertionError(
                f'ours and the literal unit differ on {case.label} in '
                f'{mode} mode: output {out_err:.2e}, input gradient '
                f'{grad_err:.2e} (relative)')
        lines.append(f'{mode}: output {out_err:.1e}, input grad '
                     f'{grad_err:.1e}')
    return (f'ours == literal on {case.label} (max relative difference; ' +
            '; '.join(lines) + ')')


def check_flop_count(blocks: Dict[str, nn.Module], case: Case,
                     device: str) -> str:
    """Compare the analytic counts with the project's FLOP counter.

    :func:`glore_mm.analysis.flop_analyzer`: mmengine's FlopAnalyzer with a
    handle for ``aten::baddbmm``, which mmengine 0.10 lacks. Norms are left
    out on both sides.
    """
    from glore_mm.analysis import flop_analyzer
    x = torch.randn(case.shape, device=device)
    parts = []
    for name, block in blocks.items():
        block.eval()
        counted = sum(
            v for k, v in flop_analyzer(block, (x, )).by_operator().items()
            if 'norm' not in k)
        parts.append(f'{name} {counted / 1e9:.3f} vs '
                     f'{count_macs(name, case) / 1e9:.3f}')
    return (f'GMAC on {case.label}, mmengine FlopAnalyzer vs analytic: ' +
            ', '.join(parts))


# --------------------------------------------------------------------------
# Output


def _ms(m: Optional[Measurement]) -> str:
    if m is None:
        return '-'
    return m.oom or f'{m.seconds * 1e3:.1f}'


def _mib(m: Optional[Measurement]) -> str:
    if m is None:
        return '-'
    return 'OOM' if m.oom else f'{m.peak / MiB:.1f}'


def _rate(m: Optional[Measurement], macs: int,
          reference: Optional[float]) -> str:
    if m is None or m.oom or not reference:
        return '-'
    return f'{macs / m.seconds / reference:.0%}'


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    return '-' if a is None or b is None or not b else f'{a / b:.3f}'


def markdown_table(columns, rows) -> str:
    lines = [
        '| ' + ' | '.join(columns) + ' |',
        '|' + '|'.join('---' for _ in columns) + '|'
    ]
    lines += ['| ' + ' | '.join(str(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def result_rows(records: List[Dict]) -> List[List[str]]:
    rows = []
    for rec in records:
        case = rec['case']
        for name in IMPLS:
            infer = rec['infer'].get(name)
            train = rec['train'].get(name)
            macs = count_macs(name, case)
            rows.append([
                case.name, name, case.label, case.length,
                _ms(infer),
                _ms(train),
                _mib(infer),
                _mib(train), f'{macs / 1e9:.2f}',
                _rate(infer, macs, rec.get('infer_rate')),
                _rate(train, 3 * macs, rec.get('train_rate'))
            ])
    return rows


def ratio_rows(records: List[Dict]) -> List[List[str]]:
    rows = []
    for rec in records:
        row = [rec['case'].name, rec['case'].length]
        for other in ('literal', 'nonlocal'):
            for mode in ('infer', 'train'):
                ours, theirs = (rec[mode].get(k) for k in ('ours', other))
                row.append(
                    _ratio(*(m.seconds if m else None
                             for m in (ours, theirs))))
        for other in ('literal', 'nonlocal'):
            ours, theirs = (rec['train'].get(k) for k in ('ours', other))
            row.append(
                _ratio(*(m.peak if m else None for m in (ours, theirs))))
        rows.append(row)
    return rows


def write_atomic(path: str, data: bytes) -> None:
    """Write ``path`` through a temporary file in its folder and a rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + osp.basename(path))
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        # mkstemp creates the file for its owner only
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def plot_sweep(records: List[Dict], path: str, title: str) -> None:
    """Time and peak memory against positions, log-log, one line a block."""
    import io

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    sweep = [rec for rec in records if rec['case'].sweep]
    lengths = [rec['case'].length for rec in sweep]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    styles = {'ours': 'o-', 'literal': 's--', 'nonlocal': '^-'}
    for ax, (key, scale, ylabel) in zip(axes, [
        ('seconds', 1e3, 'fwd+bwd time (ms)'),
        ('peak', 1 / MiB, 'fwd+bwd peak memory (MiB)'),
    ]):
        ooms, anchor = [], {}
        for name in IMPLS:
            points = []
            for rec in sweep:
                m = rec['train'].get(name)
                if m is not None and m.oom:
                    ooms.append((name, rec['case'].length))
                elif m is not None:
                    points.append((rec['case'].length, getattr(m, key)))
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y * scale for y in ys], styles[name], label=name)
                anchor[name] = (xs[-1], ys[-1] * scale)
        # guides: growth in proportion to L through ours' last point, to
        # L^2 through Non-local's (dotted, labelled L and L^2)
        for name, power in (('ours', 1), ('nonlocal', 2)):
            if name in anchor:
                x0, y0 = anchor[name]
                ax.plot(
                    lengths, [y0 * (v / x0)**power for v in lengths],
                    ':',
                    color='grey',
                    linewidth=1)
                ax.text(
                    lengths[-1],
                    y0 * (lengths[-1] / x0)**power,
                    ' L' if power == 1 else ' L^2',
                    fontsize=8,
                    color='grey')
        for name, length in ooms:
            ax.axvline(length, color='grey', linestyle=':')
            ax.text(
                length,
                ax.get_ylim()[1],
                f' {name} OOM',
                rotation=90,
                va='top',
                ha='right',
                fontsize=7)
        ax.set_xscale('log', base=2)
        ax.set_yscale('log')
        ax.set_xlabel('positions L')
        ax.set_ylabel(ylabel)
        ax.set_xticks(lengths)
        ax.set_xticklabels([str(v) for v in lengths], fontsize=7)
        ax.grid(True, which='both', alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=90)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())


def machine_info(args: argparse.Namespace) -> Dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu=cpu,
        cores=str(os.cpu_count()),
        threads=str(torch.get_num_threads()),
        torch=torch.__version__,
        python=platform.python_version(),
        device=args.device,
        dtype=args.dtype)
    if args.device == 'cuda':
        info['gpu'] = torch.cuda.get_device_name()
        info['tf32'] = 'off'
    if hasattr(os, 'getloadavg'):
        info['load average at start'] = ' '.join(f'{v:.1f}'
                                                 for v in os.getloadavg())
    return info


def report(records: List[Dict], reference: MatmulReference, info: Dict,
           notes: List[str], command: str) -> str:
    sweep = next((rec['case'] for rec in records if rec['case'].sweep), None)
    lines = [
        '# GloRe unit benchmark', '', f'Command: `{command}`', '',
        'Machine: ' + ', '.join(f'{k} {v}' for k, v in info.items()), '',
        f'Dense matmul reference: torch.mm of {reference.size}x'
        f'{reference.size} {reference.dtype} matrices, timed once per round '
        'between the blocks of every size and mode; the \'% matmul\' '
        'columns divide by its median rate in the same rounds. Over the '
        f'run: median {statistics.median(reference.rates) / 1e9:.1f}, '
        f'range {min(reference.rates) / 1e9:.1f} to '
        f'{max(reference.rates) / 1e9:.1f} GMAC/s.', ''
    ]
    lines += [f'- {note}' for note in notes]
    lines += [
        '', '## Time, memory, multiply-adds', '',
        markdown_table(RESULT_COLUMNS, result_rows(records)), '',
        'fwd: inference forward (eval, no grad); fwd+bwd: training forward '
        'and backward (train mode, input and weights require grad). '
        'MiB: peak allocated during the call above what was allocated '
        'before it. GMAC: analytic multiply-adds of the forward\'s matrix '
        'products; fwd+bwd does 3x.', '', '## Ratios (< 1: ours is faster '
        'or smaller)', '',
        markdown_table(RATIO_COLUMNS, ratio_rows(records)), ''
    ]
    if sweep is not None:
        lines += [f'Sweep: batch 1, {sweep.channels} channels.', '']
    return '\n'.join(lines)


def to_json(records: List[Dict], reference: MatmulReference,
            info: Dict) -> str:
    out = []
    for rec in records:
        case = rec['case']
        for mode in ('infer', 'train'):
            for name, m in rec[mode].items():
                out.append(
                    dict(
                        size=case.name,
                        shape=list(case.shape),
                        positions=case.length,
                        block=name,
                        mode=mode,
                        seconds=m.seconds,
                        peak_bytes=m.peak,
                        oom=m.oom,
                        forward_macs=count_macs(name, case),
                        matmul_macs_per_s=rec[mode + '_rate']))
    matmul = dict(
        size=reference.size, dtype=reference.dtype, rates=reference.rates)
    return json.dumps(dict(machine=info, matmul=matmul, results=out), indent=1)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda was given, but torch.cuda.is_available() is '
                 f'False (torch {torch.__version__}, built with CUDA '
                 f'{torch.version.cuda}); run on a machine with a GPU or '
                 'use --device cpu')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == 'cuda':
        # fp32 is fp32 for every block: cuDNN would otherwise run the
        # literal unit's and Non-local's convs in TF32, not our products
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    if args.quick:
        args.repeats = min(args.repeats, 2)
        args.time_budget = min(args.time_budget, 1.0)
    command = 'python ' + ' '.join([osp.relpath(__file__)] +
                                   (sys.argv[1:] if argv is None else argv))
    info = machine_info(args)
    budget = memory_budget(args.device, args.mem_limit_gb)
    reference = MatmulReference(args.device, DTYPES[args.dtype], args.quick)
    print(f'memory budget {budget / GiB:.2f} GiB', flush=True)

    records, notes, blocks, checked = [], [], {}, set()
    for case in make_cases(args.quick, args.sweep_channels):
        key = (case.dims, case.channels)
        if key not in blocks:
            blocks[key] = build_blocks(case.dims, case.channels, args.device)
        if case.dims not in checked:
            checked.add(case.dims)
            for note in (check_equal(blocks[key], case, args.device),
                         check_flop_count(blocks[key], case, args.device)):
                print(note, flush=True)
                notes.append(note)
        x = torch.randn(case.shape, device=args.device)
        record = dict(case=case, infer={}, train={})
        for mode in case.modes:
            record[mode], record[mode + '_rate'] = measure_mode(
                blocks[key], x, case, mode, args, budget, reference)
            summary = ', '.join(f'{name} {_ms(m)}'
                                for name, m in record[mode].items())
            print(
                f'{case.name} {case.label} {mode}: {summary} (ms)', flush=True)
        records.append(record)
        del x

    text = report(records, reference, info, notes, command)
    print('\n' + text)
    out = args.out_dir
    write_atomic(osp.join(out, 'benchmark_units.md'), text.encode())
    write_atomic(
        osp.join(out, 'benchmark_units.json'),
        to_json(records, reference, info).encode())
    channels = next(r['case'].channels for r in records if r['case'].sweep)
    plural = '' if info['threads'] == '1' else 's'
    title = (f'GloRe (ours) vs literal GloRe vs Non-local, batch 1, '
             f"{channels} channels, {info['device']} {info['dtype']}, "
             f"{info['threads']} thread{plural}")
    plot_sweep(records, osp.join(out, 'benchmark_units.png'), title)
    print(f'\nwrote {out}/benchmark_units.{{md,json,png}}')


if __name__ == '__main__':
    main()
