# Copyright (c) glore_mm contributors. All rights reserved.
"""Detection and instance segmentation of Fashion-MNIST items: Mask R-CNN
R-50-FPN at a quarter of the width, plain or with 3 GloRe units after the
authors' res4 blocks; box and mask AP from mmdet's CocoMetric after every
epoch, and the training step of the two timed side by side."""
import os.path as osp
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from experiment import (Context, data_root_of, read_scalars,
                        require_debian_fashion_mnist, run_dir, variant_of)
from mmengine.config import Config
from report import (cost_table, image_link, logged_seconds, plot_mean_band,
                    plural, runs_at_a_time, section_end, stability_lines,
                    table)

from glore_mm.datasets import fashion_mnist_detection as fmd
from glore_mm.utils import save_figure

#: CocoMetric's keys: (column heading, key), as mmdet's tables show them.
AP_COLUMNS = (('box AP', 'coco/bbox_mAP'), ('box AP50', 'coco/bbox_mAP_50'),
              ('mask AP', 'coco/segm_mAP'), ('mask AP50', 'coco/segm_mAP_50'))


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the detection set, else generate it.

    The set is generated with the defaults of
    ``tools/dataset_converters/fashion_mnist_detection.py`` from the Debian
    package's files.
    """
    if fmd.is_made(data_root):
        return
    debian_dir = require_debian_fashion_mnist(fmd.INFO_FILE,
                                              'fashion_mnist_detection.py',
                                              data_root)
    print(f'Generating the Fashion-MNIST detection set in {data_root} from '
          f'{debian_dir}')
    fmd.make_fashion_mnist_detection(debian_dir, data_root, overwrite=True)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One image as the model sees it: (channels, height, width)."""
    width, height = cfg.image_size
    return (3, height, width)


def vis_input(ctx: Context) -> str:
    """The first validation canvas (the experiment draws no projection)."""
    return osp.join(
        data_root_of(ctx.experiment, ctx.args), 'val', '000000.png')


def ap_records(work_dir: str) -> List[Dict]:
    """The validation records of a run (one per validated epoch)."""
    return [r for r in read_scalars(work_dir) if AP_COLUMNS[0][1] in r]


def final_ap(ctx: Context, key: str) -> Dict[str, List[float]]:
    """Metric key -> the last value of every run of variant ``key``."""
    variant = variant_of(ctx.experiment, key)
    records = [
        ap_records(run_dir(ctx.args, variant, r['seed']))[-1]
        for r in ctx.results[key]
    ]
    return {
        metric: [record[metric] for record in records]
        for _, metric in AP_COLUMNS
    }


def ap_table(ctx: Context) -> List[str]:
    """Box and mask AP (x100, as mmdet's tables) of every variant."""
    seeds = ', '.join(map(str, ctx.args.seeds))
    columns = ('model', *(name for name, _ in AP_COLUMNS),
               's per run (train + val)')
    rows = []
    for variant in ctx.experiment.variants:
        values = final_ap(ctx, variant.key)
        seconds = np.mean([r['seconds'] for r in ctx.results[variant.key]])
        rows.append([
            variant.label, *(' / '.join(f'{100 * v:.1f}'
                                        for v in values[metric])
                             for _, metric in AP_COLUMNS), f'{seconds:.0f}'
        ])
    return [
        f'Final epoch, seed{"s" if len(ctx.args.seeds) > 1 else ""} '
        f'{seeds}:', '', *table(columns, rows)
    ]


def plot_ap_curves(ctx: Context, path: str) -> None:
    """Box and mask AP after every epoch, per variant (mean and band over
    the seeds)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, metric) in zip(axes, (AP_COLUMNS[0], AP_COLUMNS[2])):
        for variant in ctx.experiment.variants:
            runs = [
                ap_records(run_dir(ctx.args, variant, r['seed']))
                for r in ctx.results[variant.key]
            ]
            length = min(len(records) for records in runs)
            epochs = np.array([r['step'] for r in runs[0][:length]])
            curves = np.array([[100 * r[metric] for r in records[:length]]
                               for records in runs])
            plot_mean_band(ax, epochs, curves, variant.label, marker='o')
        ax.set_xlabel('epoch')
        ax.set_ylabel(f'{name} (val)')
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def real_batch(cfg: Config) -> Callable[[int, Sequence[int]], Tuple]:
    """A ``make_batch`` for :func:`report.cost_table`: the first training
    canvases through the config's training pipeline, as the runs saw them
    (boxes, masks and labels), rather than random inputs."""

    def make_batch(batch: int, shape: Sequence[int]) -> Tuple:
        from mmdet.registry import DATASETS
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        items = pseudo_collate([dataset[i] for i in range(batch)])
        inputs = torch.stack(items['inputs']).float()
        if tuple(inputs.shape[1:]) != tuple(shape):
            raise ValueError(f'the canvases are {list(inputs.shape[1:])}, '
                             f'but the model takes {list(shape)}')
        return inputs, items['data_samples']

    return make_batch


def report(ctx: Context) -> List[str]:
    """The experiment's section."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    data_root = data_root_of(exp, args)
    info = fmd.read_info(data_root)
    shape = input_shape(cfg, data_root)
    backbone = cfg.model.backbone
    loader = cfg.train_dataloader
    num_train = loader.dataset.get('indices') or info['counts']['train']
    num_val = (
        cfg.val_dataloader.dataset.get('indices') or info['counts']['val'])
    milestones = cfg.param_scheduler[-1].milestones
    optimizer = cfg.optim_wrapper.optimizer
    cost, repeats = cost_table(ctx, shape, real_batch(cfg))
    curves = 'curves'
    plot_ap_curves(ctx, osp.join(args.images, ctx.images[curves]))
    lines = [
        f'## {exp.title}', '',
        f'Mask R-CNN R-{backbone.depth}-FPN at a quarter of the width '
        f'({backbone.base_channels} base channels, FPN and RoI features of '
        f'{cfg.model.neck.out_channels}), trained from scratch '
        '(`norm_eval=False`) on the Fashion-MNIST detection set of '
        '`tools/dataset_converters/fashion_mnist_detection.py`: '
        f'{info["canvas"][0]}x{info["canvas"][1]} canvases with '
        f'{info["items"][0]}-{info["items"][1]} real Fashion-MNIST items '
        f'each, scaled to {info["item_size"][0]}-{info["item_size"][1]} '
        'pixels and placed without overlap; masks are the items\' pixels '
        f'above {info["threshold"]}, the {len(info["classes"])} classes '
        f'their Fashion-MNIST classes. {num_train} training canvases '
        f'(items of the training split), {num_val} validation canvases '
        '(items of the test split). '
        f'{plural(cfg.train_cfg.max_epochs, "epoch")} of '
        f'{loader.batch_size} images ({optimizer.type} lr '
        f'{optimizer.lr:g}, momentum {optimizer.momentum}, x0.1 after '
        f'epoch{"s" if len(milestones) > 1 else ""} '
        f'{", ".join(map(str, milestones))}), random horizontal flips; box '
        'and mask AP from mmdet\'s `CocoMetric` on the validation canvases '
        'after every epoch.', '', *ap_table(ctx), '', *stability_lines(ctx),
        '', f'![AP per epoch]({image_link(ctx, curves)})', '',
        f'![training loss]({image_link(ctx, "loss")})', '', '### Cost', '',
        f'Per model at {shape[1]}x{shape[2]}: parameters and FLOPs of the '
        'inference path (`glore_mm.analysis`, the RoI heads on the RPN\'s '
        'proposals of a random image), the median logged seconds per '
        'training iteration of the runs, and the training step (forward '
        'with the losses, backward, SGD step) on the same batch of '
        f'{loader.batch_size} real canvases, the models timed interleaved '
        f'({repeats} steps each after one untimed):', '', *cost, '',
        *step_time_lines(ctx), ''
    ]
    return lines + section_end(ctx)


def step_time_lines(ctx: Context) -> List[str]:
    """Which of the two step times compares the models."""
    exp = ctx.experiment
    logged = logged_seconds(ctx)
    base = exp.baseline
    others = [
        f'{v.label} {logged[v.key] / logged[base]:.2f}x' for v in exp.variants
        if v.key in logged and v.key != base
    ]
    if base not in logged or not others:
        return []
    return [
        'The interleaved steps are those of untrained detectors: their RoI '
        'heads run on whatever proposals each model\'s RPN keeps (the mask '
        'head on the positive ones), which varies between models by more '
        'than the units cost, so that column does not compare backbones. '
        'The logged seconds per iteration, over every iteration of the '
        f'runs ({runs_at_a_time(ctx.args)}), do: ' + ', '.join(others) +
        ' the time of the plain model.'
    ]
