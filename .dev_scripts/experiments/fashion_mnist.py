# Copyright (c) glore_mm contributors. All rights reserved.
"""Classification on Fashion-MNIST: ResNet_CIFAR-18 plain, with one GloRe
unit after res3 or res4, and the res4 unit without its zero-initialised
gate; top-1 on the test set, and the size of the res4 unit's branch at
initialisation and after training."""
import os.path as osp
from typing import List, Tuple

import numpy as np
import torch
from experiment import (Context, data_root_of, declared_variants,
                        require_debian_fashion_mnist, run_config, variant_of)
from mmengine.config import Config
from report import (LOSS_WINDOW, comparison_lines, decay_name, decay_step,
                    glore_unit, image_link, optimizer_phrase, plural,
                    results_table, section_end, stability_lines, stage_name,
                    table)

from glore_mm.analysis.probes import backbone_shapes, unit_output_scale
from glore_mm.analysis.statistics import mean_std, window_mean
from glore_mm.apis import init_model
from glore_mm.datasets import fashion_mnist as fashion_mnist_data
from glore_mm.models import glore_units_of
from glore_mm.utils import write_png

FM_TRAIN = fashion_mnist_data.FILES['train-images-idx3-ubyte'][2]
FM_TEST = fashion_mnist_data.FILES['t10k-images-idx3-ubyte'][2]
NUMBER_WORDS = {1: 'one', 3: 'three'}
#: Test images the branch scale is measured on.
SCALE_IMAGES = 256


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the four uncompressed IDX files."""
    if fashion_mnist_data.is_converted(data_root):
        return
    debian_dir = require_debian_fashion_mnist(
        str(list(fashion_mnist_data.FILES)), 'fashion_mnist.py', data_root)
    print(f'Preparing {data_root} from {debian_dir}')
    fashion_mnist_data.convert(debian_dir, data_root, overwrite=True)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One training image: (channels, height, width)."""
    return (cfg.model.backbone.in_channels, *FM_TRAIN[1:])


def test_images(ctx: Context) -> np.ndarray:
    """The test images of the experiment's data, ``[N, 28, 28]``."""
    return fashion_mnist_data.read_idx(
        osp.join(
            data_root_of(ctx.experiment, ctx.args), 't10k-images-idx3-ubyte'))


def vis_input(ctx: Context) -> str:
    """Test image 0 as a PNG under the work dir."""
    path = osp.join(ctx.args.work_dir, 'inputs',
                    'fashion_mnist_t10k_00000.png')
    write_png(path, test_images(ctx)[0])
    return path


def model_description(ctx: Context) -> Tuple[str, str]:
    """The backbone, and where the units of the experiment's variants go.

    Read from the built models of the configs of all the variants of the
    experiment, not only those run.
    """
    backbone = ctx.cfg.model.backbone
    in_channels = backbone.in_channels
    shape = (in_channels, *FM_TRAIN[1:])
    stages, _ = backbone_shapes(init_model(ctx.cfg).backbone, shape)
    maps = [str(height) for _, height, _ in stages]
    model = (f'at depth {backbone.depth} with {backbone.base_channels} base '
             'channels (widths ' + '-'.join(str(s[0]) for s in stages) +
             ' on ' + ', '.join(maps[:-1]) + f' and {maps[-1]} pixel maps), '
             f'{NUMBER_WORDS.get(in_channels, in_channels)} input channel' +
             ('' if in_channels == 1 else 's'))
    units = {}
    for variant in declared_variants(ctx.experiment):
        built = init_model(run_config(ctx.experiment, variant,
                                      ctx.args)).backbone
        _, unit_shapes = backbone_shapes(built, shape)
        for name, unit in glore_units_of(built).items():
            channels, height, width = unit_shapes[name]
            layer = name.split('.')[0]
            units.setdefault(
                name, f'{stage_name(name)} (`{layer}`, '
                f'{channels} channels: {unit.num_state} states, '
                f'{unit.num_node} nodes on {height}x{width})')
    return model, ' or of '.join(units.values())


def scale_rows(ctx: Context) -> List[List[str]]:
    """Branch scale of the res4 units at init and trained, per variant."""
    images = torch.from_numpy(test_images(ctx)[:SCALE_IMAGES].copy())
    inputs = images.float()[:, None]  # [N, 1, 28, 28]
    rows = []
    for variant in ctx.experiment.variants:
        if not variant.key.startswith('res4x1'):
            continue
        runs = ctx.results[variant.key]
        cfg = run_config(ctx.experiment, variant, ctx.args)
        init = [unit_output_scale(cfg, inputs, seed=r['seed']) for r in runs]
        trained = [
            unit_output_scale(cfg, inputs, r['checkpoint'], seed=r['seed'])
            for r in runs
        ]
        rows.append([variant.label, mean_std(init, 3), mean_std(trained, 3)])
    return rows


def early_loss_line(ctx: Context, gated: str, ungated: str) -> List[str]:
    """How the early loss compares with and without the zero gate."""
    if gated not in ctx.results or ungated not in ctx.results:
        return []
    early = {
        key:
        np.mean([
            window_mean(r['loss'], r['steps'], LOSS_WINDOW, first=True)
            for r in ctx.results[key]
        ])
        for key in (gated, ungated)
    }
    late = {
        key: np.mean([r['metric'] for r in ctx.results[key]])
        for key in (gated, ungated)
    }
    trend = 'lower' if early[ungated] < early[gated] else 'higher'
    return [
        f'At this scale the unit without the zero gate did not destabilise '
        f'training: its mean loss over the first {LOSS_WINDOW} iterations is '
        f'{trend} ({early[ungated]:.2f} vs {early[gated]:.2f} with the '
        f'gate), and its mean top-1 is {late[ungated]:.2f} vs '
        f'{late[gated]:.2f}.' if trend == 'lower' else
        f'Without the zero gate the mean loss over the first {LOSS_WINDOW} '
        f'iterations is higher ({early[ungated]:.2f} vs {early[gated]:.2f} '
        f'with the gate), and the mean top-1 is {late[ungated]:.2f} vs '
        f'{late[gated]:.2f}.'
    ]


def report(ctx: Context) -> List[str]:
    """The experiment's section."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    scales = scale_rows(ctx)
    model, units = model_description(ctx)
    num_train = cfg.train_dataloader.dataset.get('indices') or FM_TRAIN[0]
    num_test = cfg.val_dataloader.dataset.get('indices')
    test = f'first {num_test:,}' if num_test else f'full {FM_TEST[0]:,}'
    lines = [
        f'## {exp.title}', '',
        'mmpretrain\'s `ResNet_CIFAR` (3x3 stem, no max-pool) '
        f'{model}, trained from scratch on the first {num_train:,} of the '
        f'{FM_TRAIN[0]:,} training images (the same images for every run) '
        f'for {plural(cfg.train_cfg.max_epochs, "epoch")}, batch '
        f'{cfg.train_dataloader.batch_size}, {optimizer_phrase(cfg)} with a '
        f'{decay_name(cfg)} decay per {decay_step(cfg)}; top-1 on the {test} '
        f'test images. A GloRe unit goes after the last block of {units}. '
        f'Data: Debian\'s `{fashion_mnist_data.DEBIAN_PACKAGE}`, prepared by '
        '`tools/dataset_converters/fashion_mnist.py`.', '',
        *results_table(ctx), '', *comparison_lines(ctx, exp.baseline), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{cfg.default_hooks.logger.interval} iterations) over the first '
        f'and last {LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
        f'![training loss]({image_link(ctx, "loss")})', '',
        'Stability (a run diverged if a logged loss is not finite or its '
        f'last {LOSS_WINDOW} iterations have no lower loss than its first):',
        '', *stability_lines(ctx), ''
    ]
    if scales:
        lines += [
            '### What the zero-initialised gate does', '',
            'Size of the res4 unit\'s residual branch relative to its '
            'input, `||unit(x) - x|| / ||x||` on the first '
            f'{SCALE_IMAGES} test images, mean ± std over the seeds: at '
            'initialisation in training mode (what the first step sees) and '
            'after training in eval mode.', '', *table(
                ('model', 'at init', 'trained'), scales), '',
            'With the gate the unit is exactly the identity at the start '
            '(0); without it the unit adds a branch of the size shown to '
            'the features from the first step.', '',
            *early_loss_line(ctx, 'res4x1', 'res4x1_nozeroinit'), ''
        ]
    if 'vis' in ctx.images:
        name, unit = glore_unit(
            run_config(exp, variant_of(exp, exp.visualise), args))
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained {stage_name(name)} '
            f'unit (seed {args.seeds[0]}) on test image 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    return lines + section_end(ctx)
