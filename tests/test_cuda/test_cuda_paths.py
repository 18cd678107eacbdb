# Copyright (c) glore_mm contributors. All rights reserved.
"""What only a GPU can check: precisions, AMP, NCCL and SyncBN.

Every test here is marked ``cuda`` and skipped without CUDA;
``.dev_scripts/gpu_check.sh`` runs them on a GPU machine and puts the
numbers each test records (``record_property``) in its report.

- The unit against a float64 literal implementation of the paper's
  formulas, forward and backward, in fp32, TF32 and under fp16 and bf16
  autocast, each with its own tolerance (:data:`PRECISIONS`).
- The GloRe head of the Cityscapes config under fp16 autocast at the
  whole-image size (1024x2048 input: 128x256 head features).
- ``tools/train.py --amp`` on the shrunk seg, cls and video configs, and
  ``tools/dist_train.sh CONFIG 1`` (NCCL, SyncBN) on the shrunk seg one,
  all four started at once on the one GPU. The video run decodes with
  mmaction's OpenCV transforms instead of decord (decoding runs on the
  CPU; the CPU tests cover decord).
"""
import copy
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional

import pytest
import torch
import torch.nn.functional as F

from glore_mm import GloRe2d, GloRe3d
from glore_mm.analysis.reference import literal_glore, randomize_gate
from tests.tiny_runs import (CLS_CONFIG, SEG_CONFIG, VIDEO_CONFIGS,
                             data_root_options)
from tests.tool_runner import (REPO, TOOLS, free_port, log_text, run_tool,
                               tool_env)

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device'),
]

UNITS = {2: GloRe2d, 3: GloRe3d}
# 2D as in the segmentation head (normalised), 3D as in the video nets
SHAPES = {2: (2, 64, 33, 47), 3: (2, 64, 3, 11, 13)}
VIDEO_CONFIG = VIDEO_CONFIGS['i3d']
HEAD_CONFIG = (
    REPO / 'configs' / 'mmseg' /
    'glore_r50-d8_4xb2-40k_cityscapes-512x1024.py')
# threads of each of the training processes that run at once
THREADS_PER_RUN = '4'


class Precision(NamedTuple):
    """How the unit computes, and how close to float64 it must come.

    Tolerances bound ``||a - b|| / ||b||`` (2-norms over all elements) of
    the unit's contribution ``out - x``, of its part of the input gradient
    and of each parameter gradient.
    """
    autocast: Optional[torch.dtype]
    tf32: bool
    forward_tol: float
    backward_tol: float


# fp32: TF32 off for matmuls and cuDNN. TF32 and fp16 keep 10 explicit
# mantissa bits (unit roundoff 4.9e-4), bf16 7 (3.9e-3). Gradients of biases
# sum over all positions with cancellation and lose more than the output.
# A wrong formula gives errors of order 1.
PRECISIONS = {
    'fp32': Precision(None, False, 1e-5, 5e-5),
    'tf32': Precision(None, True, 5e-3, 3e-2),
    'fp16': Precision(torch.float16, False, 5e-3, 3e-2),
    'bf16': Precision(torch.bfloat16, False, 3e-2, 1.5e-1),
}


@contextmanager
def precision_mode(precision: Precision) -> Iterator[None]:
    """Set TF32 and autocast for the block; restore TF32 afterwards."""
    saved = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = precision.tf32
    torch.backends.cudnn.allow_tf32 = precision.tf32
    try:
        with torch.autocast(
                'cuda',
                dtype=precision.autocast or torch.float16,
                enabled=precision.autocast is not None):
            yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = saved


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """``||value - reference|| / ||reference||`` in float64."""
    value, reference = value.double(), reference.double()
    return ((value - reference).norm() / reference.norm()).item()


@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('precision', list(PRECISIONS))
@pytest.mark.parametrize('dims', [2, 3])
def test_unit_matches_float64_reference(dims, precision, train,
                                        record_property):
    torch.manual_seed(0)
    unit = UNITS[dims](64, normalize=dims == 2).cuda().train(train)
    randomize_gate(unit)
    reference_unit = copy.deepcopy(unit).double()
    x = torch.randn(SHAPES[dims], device='cuda')
    grad = torch.randn_like(x)

    x64 = x.double().requires_grad_()
    reference = literal_glore(reference_unit, x64)
    reference.backward(grad.double())

    inputs = x.clone().requires_grad_()
    with precision_mode(PRECISIONS[precision]):
        out = unit(inputs)
    assert torch.isfinite(out).all()
    out.float().backward(grad)

    errors = {
        'forward': relative_error(out - x, reference - x64),
        # the residual's identity part of the gradient is exact: compare
        # the unit's part only
        'input grad': relative_error(inputs.grad - grad, x64.grad - grad),
    }
    references = dict(reference_unit.named_parameters())
    for name, param in unit.named_parameters():
        errors[f'grad {name}'] = relative_error(param.grad,
                                                references[name].grad)
    worst_param = max((k for k in errors if k.startswith('grad ')),
                      key=errors.get)
    tol = PRECISIONS[precision]
    record_property('forward error', f"{errors['forward']:.1e}")
    record_property('input grad error', f"{errors['input grad']:.1e}")
    record_property('worst param grad error',
                    f'{errors[worst_param]:.1e} ({worst_param[5:]})')
    record_property('tolerance', f'{tol.forward_tol:.2g} / '
                    f'{tol.backward_tol:.2g}')
    assert errors['forward'] < tol.forward_tol, errors
    for name, error in errors.items():
        if name != 'forward':
            assert error < tol.backward_tol, (name, errors)


def _build_head(normalize: bool = True) -> torch.nn.Module:
    """The Cityscapes config's GloReHead (BN for SyncBN), gate opened."""
    from mmengine.config import Config
    from mmseg.registry import MODELS

    import glore_mm.mmseg  # noqa: F401 (registers GloReHead)
    cfg = Config.fromfile(str(HEAD_CONFIG)).model.decode_head
    cfg.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.normalize = normalize
    torch.manual_seed(0)
    head = MODELS.build(cfg).cuda()
    randomize_gate(head.glore)
    return head


def _whole_image_features(head: torch.nn.Module) -> List[torch.Tensor]:
    """Backbone outputs of a 1024x2048 image at 1/8: 128x256 positions."""
    torch.manual_seed(1)
    features = torch.randn(1, head.in_channels, 128, 256, device='cuda')
    inputs = [None] * (head.in_index + 1)
    # post-ReLU, as ResNet stage outputs are
    inputs[head.in_index] = features.relu_().mul_(4)
    return inputs


@contextmanager
def recorded_nodes(head: torch.nn.Module) -> Iterator[List[torch.Tensor]]:
    """The node features the unit feeds its graph convolution."""
    nodes: List[torch.Tensor] = []
    handle = head.glore.gcn.register_forward_pre_hook(
        lambda module, args: nodes.append(args[0].detach()))
    try:
        yield nodes
    finally:
        handle.remove()


@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
def test_head_amp_whole_image_stays_finite(train, record_property):
    head = _build_head().train(train)
    inputs = _whole_image_features(head)
    labels = torch.randint(0, head.num_classes, (1, 128, 256), device='cuda')
    if not train:
        with torch.no_grad(), precision_mode(PRECISIONS['fp32']):
            reference = head(inputs)
    with recorded_nodes(head) as nodes, torch.autocast(
            'cuda', dtype=torch.float16), torch.set_grad_enabled(train):
        logits = head(inputs)
    assert logits.shape == (1, head.num_classes, 128, 256)
    assert logits.dtype == torch.float16
    assert len(nodes) == 1 and nodes[0].dtype == torch.float16
    assert torch.isfinite(nodes[0]).all()
    assert torch.isfinite(logits).all()
    node_max = nodes[0].abs().max().item()
    record_property('max |node feature| (fp16)', f'{node_max:.3g}')
    if train:
        F.cross_entropy(logits.float(), labels).backward()
        for name, param in head.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
        record_property('gate grad norm',
                        f'{head.glore.norm.weight.grad.norm():.3g}')
    else:
        error = relative_error(logits, reference)
        record_property('logits error vs fp32', f'{error:.1e}')
        assert error < 1e-2


# --------------------------------------------------------------------------
# The tools on the GPU


class GPURun(NamedTuple):
    """A training run on the GPU: its work_dir, exit status and output."""
    work_dir: Path
    returncode: int
    output: str


def _opencv_decoding() -> List[str]:
    """The video pipelines' decord transforms replaced by mmaction's OpenCV
    ones (same positions: Init first, Decode third)."""
    return [
        f'{split}_dataloader.dataset.pipeline.{i}.type={kind}'
        for split in ('train', 'val', 'test')
        for i, kind in ((0, 'OpenCVInit'), (2, 'OpenCVDecode'))
    ]


def _train(cmd: List, work_dir: Path, **env: str) -> GPURun:
    result = run_tool(
        cmd,
        cwd=work_dir.parent,
        env=tool_env(OMP_NUM_THREADS=THREADS_PER_RUN, **env),
        ok=False)
    return GPURun(work_dir, result.returncode, result.stdout + result.stderr)


@pytest.fixture(scope='module')
def runs(tmp_path_factory, cityscapes: Path, kinetics: Path,
         imagenet: Path) -> Dict[str, GPURun]:
    """Start the four runs at once on the session's tiny data sets."""
    base = tmp_path_factory.mktemp('cuda_runs')
    train = [sys.executable, TOOLS / 'train.py']
    jobs = {
        'seg': [*train, SEG_CONFIG, '--amp'],
        'cls': [*train, CLS_CONFIG, '--amp'],
        'video': [*train, VIDEO_CONFIG, '--amp'],
        'syncbn': [TOOLS / 'dist_train.sh', SEG_CONFIG, 1],
    }
    options = {
        'seg': data_root_options(cityscapes),
        'cls': data_root_options(imagenet),
        'video': data_root_options(kinetics) + _opencv_decoding(),
        'syncbn': data_root_options(cityscapes),
    }
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {
            name:
            pool.submit(
                _train, [
                    *cmd, '--work-dir', base / name, '--cfg-options',
                    *options[name]
                ],
                base / name,
                PORT=free_port())
            for name, cmd in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _check_run(run: GPURun, iters: List[str], record_property) -> str:
    """The run finished every iteration with a finite loss; its log."""
    assert run.returncode == 0, run.output[-5000:]
    log = log_text(run.work_dir)
    progress = re.findall(r'\(train\) +(?:\[\d+\])?\[\s*(\d+/\d+)\]', log)
    assert progress == iters, log[-3000:]
    losses = [float(v) for v in re.findall(r' loss: (\S+)', log)]
    assert len(losses) == len(iters), log[-3000:]
    assert all(torch.isfinite(torch.tensor(losses))), losses
    memory = [int(v) for v in re.findall(r'memory: (\d+)', log)]
    assert memory and all(m > 0 for m in memory), log[-3000:]
    record_property('iterations', len(iters))
    record_property('last loss', f'{losses[-1]:.4g}')
    record_property('max memory (MiB, mmengine)', max(memory))
    return log


def _dumped_config(run: GPURun, config: Path) -> str:
    return (run.work_dir / config.name).read_text()


@pytest.mark.parametrize('name, config, iters', [
    ('seg', SEG_CONFIG, ['1/4', '2/4', '3/4', '4/4']),
    ('cls', CLS_CONFIG, ['1/2', '2/2']),
    ('video', VIDEO_CONFIG, ['1/3', '2/3', '3/3']),
])
def test_train_amp(runs, name, config, iters, record_property):
    run = runs[name]
    _check_run(run, iters, record_property)
    assert "type='AmpOptimWrapper'" in _dumped_config(run, config)
    if name == 'video':
        assert "type='OpenCVDecode'" in _dumped_config(run, config)


def test_dist_train_syncbn_nccl(runs, record_property):
    run = runs['syncbn']
    log = _check_run(run, ['1/4', '2/4', '3/4', '4/4'], record_property)
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log
    assert "'backend': 'nccl'" in log
    # mmengine reverts SyncBN to BN only in runs that are not distributed,
    # and glore_mm's CPU wrapper only without CUDA: neither happened
    assert 'reverted to BatchNormXd' not in log
    assert 'CPUDistributedDataParallel' not in log
    assert "type='SyncBN'" in _dumped_config(run, SEG_CONFIG)
