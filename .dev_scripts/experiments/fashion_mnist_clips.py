# Copyright (c) glore_mm contributors. All rights reserved.
"""Temporal relations: clips whose label says whether the item of the
first frame and the item of the last frame are of the same class, with
noise (or distractor items) in between. I3D-18 and C2D-18, each plain,
with one GloRe3d unit over space-time after res3, or with mmaction's own
non-local block there (``fashion_mnist_clips_noinflate``: the I3D with its
blocks not inflated); top-1 on the test clips, the training curves, the
frames each plain stage sees (measured by back-propagation) and the cost
of each model."""
import os.path as osp
from functools import partial
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from curves import (curve_finding_lines, curve_lines, left_chance_at,
                    plot_curves)
from experiment import (Context, data_root_of, require_debian_fashion_mnist,
                        require_default_settings, run_config)
from mmengine.config import Config
from report import (LOSS_WINDOW, cost_table, decay_name, decay_step,
                    image_link, optimizer_phrase, plural, results_table,
                    runs_at_a_time, section_end, stage_name)

from glore_mm.analysis.cost import action_batch
from glore_mm.analysis.probes import module_outputs, receptive_frames
from glore_mm.analysis.statistics import separation
from glore_mm.apis import init_model
from glore_mm.datasets import fashion_mnist
from glore_mm.datasets import fashion_mnist_clips as clips
from glore_mm.models import glore_units_of

#: Variant -> the plain network it is compared with: each global block
#: against the backbone it sits in.
BASELINES = dict(
    i3d_glore='i3d',
    i3d_glore_nozeroinit='i3d',
    i3d_nonlocal='i3d',
    c2d_glore='c2d',
    c2d_glore_nozeroinit='c2d',
    c2d_nonlocal='c2d')
#: The plain networks whose temporal receptive fields are measured.
PLAIN = ('i3d', 'c2d')
#: How the section counts its plain networks.
NUMBER_WORDS = {2: 'two', 3: 'three'}
#: Frames of the clip on which the windows are measured again where the
#: experiment's clips cut them short.
LONG_CLIP = 64


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the clips, else generate them.

    A set made with other settings than the converter's defaults, for
    which the configs are written, is refused. The set is generated with
    the defaults of ``tools/dataset_converters/fashion_mnist_clips.py``
    from the Debian package's files.
    """
    if clips.is_made(data_root):
        require_default_settings(
            clips.read_info(data_root), clips.DEFAULTS,
            ('num_frames', 'frame', 'distractors', 'noise'),
            'fashion_mnist_clips.py', data_root)
        return
    debian_dir = require_debian_fashion_mnist(clips.INFO_FILE,
                                              'fashion_mnist_clips.py',
                                              data_root)
    print(f'Generating the Fashion-MNIST clips in {data_root} from '
          f'{debian_dir}')
    clips.make_fashion_mnist_clips(debian_dir, data_root, overwrite=True)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One sample: (views, channels, frames, height, width); the grey
    frames are read as 3 equal channels."""
    info = clips.read_info(data_root)
    return (1, 3, info['num_frames'], *info['frame'])


def vis_input(ctx: Context) -> str:
    """None: the experiment draws no projection (``visualise: null``)."""
    raise SystemExit(f'{ctx.experiment.name} draws no projection maps: '
                     'vis_projection reads videos, the clips are rawframes')


# --------------------------------------------------------------------------
# models


def block_lines(ctx: Context, shape: Sequence[int]) -> List[str]:
    """What each variant adds to its backbone, read from its built model."""
    described = []
    for variant in ctx.experiment.variants:
        # initialised as training starts: the blocks' start is read off
        backbone = init_model(
            run_config(ctx.experiment, variant, ctx.args),
            init_weights=True).backbone
        blocks = dict(glore_units_of(backbone))
        blocks.update({
            name: module
            for name, module in backbone.named_modules()
            if name.endswith('non_local_block')
        })
        if not blocks:
            continue
        with torch.no_grad():
            outputs = module_outputs(backbone, list(blocks),
                                     torch.zeros(1, *shape[1:]))
        for name, block in blocks.items():
            channels, *sizes = outputs[name].shape[1:]
            if hasattr(block, 'num_node'):
                inner = f'{block.num_state} states, {block.num_node} nodes'
                last = block.gate
            else:
                inner = (f'{block.inter_channels} inter channels, '
                         f'{block.mode.replace("_", " ")}')
                last = block.conv_out.norm
            inner += f'; {start_phrase(last)}'
            where = 'at the end of' if 'non_local' in name else 'after'
            block_name = name.rsplit('.', 1)[0]
            described.append(
                f'- {variant.label}: `{type(block).__name__}` {where} '
                f'`{block_name}` ({stage_name(name)}, {channels} channels '
                f'on {"x".join(map(str, sizes))} clips: {inner})')
    return described


def start_phrase(last: nn.Module) -> str:
    """How a global block starts training, from the weight of its last
    layer (the BN on its output) after the model's initialisation."""
    weight = last.weight.detach().abs()
    if not weight.any():
        return 'output BN weight 0 at the start: the identity'
    return (f'output BN weight {float(weight.mean()):g} at the start: its '
            'whole output added from the first step')


def additive_reference(num_classes: int) -> Tuple[int, float]:
    """The best accuracy (%) of calling a clip ``same`` exactly when both
    items are among ``k`` chosen classes, and that ``k``.

    Half of the clips hold two items of one class (uniform), half two
    classes (the second uniform over the others): both items are among
    ``k`` classes in ``k / num_classes`` of the same clips and in
    ``k (k - 1) / (num_classes (num_classes - 1))`` of the different ones.
    """
    scores = {
        k:
        50 * k / num_classes + 50 * (1 - k * (k - 1) / (num_classes *
                                                        (num_classes - 1)))
        for k in range(num_classes + 1)
    }
    k = max(scores, key=scores.get)
    return k, scores[k]


def temporal_lines(ctx: Context, shape: Sequence[int]) -> List[str]:
    """The frames one central output of each stage of the plain networks
    sees, and whether that spans the first and the last frame."""
    num_frames = shape[2]
    best_set, best = additive_reference(fashion_mnist.NUM_CLASSES)
    parts = []
    for key in PLAIN:
        variant = next((v for v in ctx.experiment.variants if v.key == key),
                       None)
        if variant is None:
            continue
        backbone = init_model(run_config(ctx.experiment, variant,
                                         ctx.args)).backbone
        frames = receptive_frames(backbone, shape[1:])
        stages = ', '.join(f'res{i + 2} {n}' for i, n in enumerate(frames))
        spans = [
            f'res{i + 2}' for i, n in enumerate(frames) if n >= num_frames
        ]
        notes = [
            f'both ends from {spans[0]} on' if spans else 'never both ends'
        ]
        # the windows the clip's length cuts short, uncut on a long clip
        uncut = receptive_frames(backbone, (shape[1], LONG_CLIP, *shape[3:]))
        if uncut != frames:
            notes.append(f'on {LONG_CLIP}-frame clips ' +
                         ', '.join(f'res{i + 2} {n}'
                                   for i, n in enumerate(uncut)))
            if max(uncut) < LONG_CLIP:
                notes[-1] += (', so ends more than '
                              f'{plural(max(uncut) - 1, "frame")} apart '
                              'would never meet before its head')
        parts.append(f'{variant.label}: {stages} of {num_frames} frames '
                     f'({"; ".join(notes)})')
    networks = 'networks' if len(parts) > 1 else 'network'
    return [
        f'Where the plain {networks} can relate the two ends: one central '
        'output position of each stage depends on this many input frames '
        '(the theoretical bound, measured by back-propagation through the '
        'built backbone; the effective windows are smaller): ' +
        '; '.join(parts) + '. A plain head (average pooling over space and '
        'time, one linear layer) adds no comparison of its own: where the '
        'two ends never meet before it, it scores a clip by a sum of terms '
        'that each see one end, which can favour classes but not compare '
        'two items. The best such rule, even with every item\'s class '
        'known, calls a clip `same` when both items are among '
        f'{best_set} chosen classes and is right on {best:.1f}% of the '
        'clips (from the class draw); 50% is chance.'
    ]


# --------------------------------------------------------------------------
# the section


def comparison_lines(ctx: Context) -> List[str]:
    """Each global block against the plain network it sits in."""
    labels = {v.key: v.label for v in ctx.experiment.variants}
    lines = []
    for key, plain in BASELINES.items():
        if key not in ctx.results or plain not in ctx.results:
            continue
        apart = separation([r['metric'] for r in ctx.results[key]],
                           [r['metric'] for r in ctx.results[plain]])
        if apart.bound is None:
            verdict = 'one seed only: no spread to compare with'
        else:
            verdict = (f'{"larger than" if apart.apart else "within"} twice '
                       f'the larger seed std ({apart.bound:.2f})')
        lines.append(f'- {labels[key]}: {apart.difference:+.2f} points vs '
                     f'{labels[plain]}, {verdict}.')
    return lines


def data_lines(info: Dict, num_train: int, num_test: int) -> List[str]:
    """The task and the data set, from its ``info.json``."""
    height, width = info['frame']
    source = (f'Debian\'s `{fashion_mnist.DEBIAN_PACKAGE}`'
              if info['source_dir'] == fashion_mnist.DEBIAN_DIR else
              f'the IDX files of `{info["source_dir"]}`')
    frames = info['num_frames']
    if info['distractors']:
        between = ('every frame in between shows an item of a random class '
                   f'with probability {info["distractors"]:g} (the '
                   'distractors say nothing about the label), else noise')
    else:
        between = 'the frames in between show noise only'
    return [
        f'A temporal relational task: each clip of {frames} grey '
        f'{height}x{width} frames shows a {info["item_size"]}x'
        f'{info["item_size"]} Fashion-MNIST item in its first frame and one '
        f'in its last, {frames - 1} frames later, at random places on '
        f'uniform background noise 0-{info["noise"]}; {between}. A clip is '
        'labelled by whether the first and the last item are of the same '
        'class (half and half; the first class uniform, the second the same '
        'or uniform over the nine others), so neither item alone says '
        'anything about the label. Training clips take their items '
        'from the training split, test clips from the test split (unseen '
        f'items). {info["counts"]["train"]:,} training and '
        f'{info["counts"]["test"]:,} test clips (the first {num_train:,} '
        f'and {num_test:,} used), generated with seed {info["seed"]} by '
        '`tools/dataset_converters/fashion_mnist_clips.py` from '
        f'{source} as rawframes (PNG frames and `folder frames label` '
        'lists) that mmaction\'s `RawframeDataset` reads.'
    ]


def backbone_phrase(backbone: Dict) -> str:
    """How a config's ResNet3d is set: inflated (I3D), frame by frame
    (C2D) or frame by frame after a 3-D stem, its depth and base
    channels."""
    inflated = any(backbone.get('inflate', (1, 1, 1, 1)))
    stem_frames = backbone.get('conv1_kernel', (5, 7, 7))[0]
    if inflated:
        kind = 'every block inflated (3x3x3 convs)'
    elif stem_frames == 1:
        kind = ('no block inflated and a 1x7x7 stem, so every convolution '
                'runs frame by frame')
    else:
        kind = (f'no block inflated: the {stem_frames}x7x7 stem is its only '
                'convolution across frames')
    return (f'depth {backbone.depth}, {backbone.base_channels} base '
            f'channels, {kind}')


def plain_lines(ctx: Context) -> List[str]:
    """The plain networks of the experiment, how each is built and how
    long it and its variants train."""
    exp = ctx.experiment
    plains = [(v, run_config(exp, v, ctx.args)) for v in exp.variants
              if v.key in PLAIN]
    cfg = plains[0][1]
    described = '; '.join(f'{v.label}: {backbone_phrase(c.model.backbone)}'
                          for v, c in plains)
    if any(v.key == 'c2d' for v, _ in plains):
        described += (' (mmaction\'s `C2D` class fixes its widths at 64-512, '
                      'about 16 times the cost)')
    epochs = [c.train_cfg.max_epochs for _, c in plains]
    decay_span = ''
    if len(set(epochs)) == 1:
        schedule = plural(epochs[0], 'epoch')
    else:
        longest = max(epochs)
        schedule = ' and '.join(
            f'{plural(e, "epoch")} ({v.label} and its variants' +
            (': longer, since there the added block is the only place '
             'where the two ends can meet)' if e == longest else ')')
            for e, (v, _) in zip(epochs, plains))
        decay_span = ' over each schedule'
    head = ('The plain network is' if len(plains) == 1 else
            f'The {NUMBER_WORDS.get(len(plains), len(plains))} plain '
            'networks are')
    return [
        f'{head} mmaction\'s `ResNet3d` with no temporal stride, no stem '
        'pooling before res2 and pool2 halving time, average pooling and a '
        f'linear 2-class head. {described}. Trained from scratch for '
        f'{schedule}, batch {cfg.train_dataloader.batch_size}, '
        f'{optimizer_phrase(cfg)} with a {decay_name(cfg)} decay per '
        f'{decay_step(cfg)}{decay_span}; top-1 on the test clips after '
        'every epoch. The variants add one global block each:'
    ]


def report(ctx: Context) -> List[str]:
    """The experiment's section; draws the curves."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    data_root = data_root_of(exp, args)
    info = clips.read_info(data_root)
    shape = input_shape(cfg, data_root)
    num_train = (
        cfg.train_dataloader.dataset.get('indices') or info['counts']['train'])
    num_test = (
        cfg.val_dataloader.dataset.get('indices') or info['counts']['test'])
    left = {
        key: [left_chance_at(r) for r in runs]
        for key, runs in ctx.results.items()
    }
    curves, accuracies, epochs = curve_lines(ctx, left)
    plot_curves(ctx, accuracies, epochs,
                osp.join(args.images, ctx.images['curves']))
    cost, repeats = cost_table(ctx, shape,
                               partial(action_batch, num_classes=2))
    means = {
        key: np.mean([r['metric'] for r in runs])
        for key, runs in ctx.results.items()
    }
    lines = [
        f'## {exp.title}', '', *data_lines(info, num_train, num_test), '',
        *plain_lines(ctx), '', *block_lines(ctx, shape), '',
        *results_table(ctx), '', *comparison_lines(ctx), '',
        'Chance is 50%: ' +
        '; '.join(f'{v.label} {means[v.key]:.2f}%'
                  for v in exp.variants if v.key in means) + '.', '',
        *temporal_lines(ctx, shape), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{cfg.default_hooks.logger.interval} iterations) over the first '
        f'and last {LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
        f'![training loss]({image_link(ctx, "loss")})', '',
        '### Training curves', '',
        'Test top-1 (%) after every epoch, mean ± std over the seeds, and '
        'the iteration at which each run left chance level (the plot: means '
        'over the seeds, bands from the lowest to the highest seed):', '',
        *curves, '',
        *curve_finding_lines(ctx, left, accuracies, epochs, BASELINES), '',
        f'![training curves]({image_link(ctx, "curves")})', '', '### Cost', '',
        'Parameters and FLOPs of one clip (inference path, a '
        'multiply-add is one FLOP); seconds per training iteration as '
        'logged by the runs (median of the logged `time`, mean over the '
        f'seeds; {runs_at_a_time(args)}) and measured side by side in one '
        f'process: {repeats} training steps (`model.train_step` with the '
        'config\'s optimiser) of each model on random batches of '
        f'{cfg.train_dataloader.batch_size}, interleaved, median '
        f'({args.threads} thread(s)); the last column compares with '
        f'{next(v.label for v in exp.variants if v.key == exp.baseline)}, '
        'the first plain network.', '', *cost, ''
    ]
    return lines + section_end(ctx)
