# Copyright (c) glore_mm contributors. All rights reserved.
"""Dense relations: canvases of two Fashion-MNIST items far apart, each
item's pixels labelled ``same`` or ``different`` by the class of the other
item. FCN-R18-D8 with mmseg's FCNHead or with a context head on the same
features (mmseg's NLHead, GCHead, CCHead, our GloReHead); mIoU and
per-class IoU, IoU against the distance of the two items (from the test
predictions of ``tools/test.py --out``), the receptive windows of the plain
backbone, the cost of each head and the trained GloRe head's projection
maps."""
import os
import os.path as osp
from functools import partial
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch.nn as nn
from curves import metric_curve
from experiment import (Context, all_runs, data_root_of, predictions_path,
                        require_debian_fashion_mnist, require_default_settings,
                        run_config, variant_of)
from mmengine.config import Config
from report import (LOSS_WINDOW, comparison_lines, cost_table, decay_name,
                    glore_unit, image_link, optimizer_phrase, plot_mean_band,
                    results_table, runs_at_a_time, section_end, stage_name,
                    table)

from glore_mm.analysis.cost import segmentation_batch
from glore_mm.analysis.probes import backbone_shapes, receptive_widths
from glore_mm.analysis.statistics import mean_std, separation, trailing_mean
from glore_mm.apis import init_model
from glore_mm.datasets import fashion_mnist
from glore_mm.datasets import fashion_mnist_dense as dense
from glore_mm.utils import save_figure

#: Bins of the IoU against distance: quantiles of the test items'
#: distances.
DISTANCE_BINS = 4
#: The item classes (labels), which depend on the other item.
ITEM_LABELS = (dense.SAME, dense.DIFFERENT)
#: Loss values averaged in the curve plot.
CURVE_WINDOW = 10


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the dense set, else generate it.

    A set made with other settings than the converter's defaults, for
    which the configs are written, is refused. The set is generated with
    the defaults of ``tools/dataset_converters/fashion_mnist_dense.py``
    from the Debian package's files.
    """
    if dense.is_made(data_root):
        require_default_settings(
            dense.read_info(data_root), dense.DEFAULTS,
            ('canvas', 'min_distance', 'threshold', 'noise'),
            'fashion_mnist_dense.py', data_root)
        return
    debian_dir = require_debian_fashion_mnist(dense.INFO_FILE,
                                              'fashion_mnist_dense.py',
                                              data_root)
    print(f'Generating the Fashion-MNIST dense relations in {data_root} '
          f'from {debian_dir}')
    dense.make_fashion_mnist_dense(debian_dir, data_root, overwrite=True)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One canvas: (channels, height, width)."""
    info = dense.read_info(data_root)
    return (cfg.model.backbone.in_channels, *info['canvas'])


def vis_input(ctx: Context) -> str:
    """Test canvas 0."""
    return osp.join(
        data_root_of(ctx.experiment, ctx.args), 'img_dir', 'test',
        '000000.png')


# --------------------------------------------------------------------------
# IoU from the kept predictions


def _read(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f'cannot read {path}')
    return image


def run_counts(ctx: Context, prediction_dir: str, items: List[Dict],
               bins: np.ndarray) -> Dict[str, np.ndarray]:
    """Intersections and unions of one run's test predictions.

    Args:
        ctx (Context): The experiment.
        prediction_dir (str): The run's PNG predictions (one per canvas).
        items (list[dict]): The test items (``meta/test.csv``) of the
            predicted canvases.
        bins (np.ndarray): The distance bin of each item.

    Returns:
        dict: ``'image'``: [2, classes] intersections and unions over the
        whole canvases (mmseg's IoUMetric); ``'bins'``: [2, item labels,
        bins] over the items' 28x28 boxes.
    """
    data_root = data_root_of(ctx.experiment, ctx.args)
    num_classes = len(dense.CLASSES)
    image = np.zeros((2, num_classes))
    boxes = np.zeros((2, len(ITEM_LABELS), bins.max() + 1))
    by_canvas: Dict[str, List[int]] = {}
    for i, item in enumerate(items):
        by_canvas.setdefault(item['filename'], []).append(i)
    for name, indices in by_canvas.items():
        pred = _read(osp.join(prediction_dir, name))
        label = _read(osp.join(data_root, 'ann_dir', 'test', name))
        for c in range(num_classes):
            image[0, c] += np.sum((pred == c) & (label == c))
            image[1, c] += np.sum((pred == c) | (label == c))
        for i in indices:
            y, x = items[i]['y'], items[i]['x']
            p = pred[y:y + dense.ITEM_SIZE, x:x + dense.ITEM_SIZE]
            g = label[y:y + dense.ITEM_SIZE, x:x + dense.ITEM_SIZE]
            for j, c in enumerate(ITEM_LABELS):
                boxes[0, j, bins[i]] += np.sum((p == c) & (g == c))
                boxes[1, j, bins[i]] += np.sum((p == c) | (g == c))
    return dict(image=image, bins=boxes)


def iou_results(
    ctx: Context
) -> Tuple[np.ndarray, np.ndarray, Dict[str, np.ndarray], Dict[str,
                                                               np.ndarray]]:
    """Per-class IoU and item IoU per distance bin of every run.

    Returns:
        tuple: The bin edges, the items per bin, per variant the per-class
        IoU (%) (seeds x classes) and the mean IoU (%) of the two item
        classes over the items' boxes of each bin (seeds x bins).
    """
    exp = ctx.experiment
    variant = exp.variants[0]
    first = predictions_path(exp, ctx.args, variant,
                             ctx.results[variant.key][0]['seed'])
    predicted = set(os.listdir(first))
    items = [
        item for item in dense.read_items_table(
            data_root_of(exp, ctx.args), 'test')
        if item['filename'] in predicted
    ]
    distances = np.array([item['distance'] for item in items])
    edges = np.unique(
        np.quantile(distances, np.linspace(0, 1, DISTANCE_BINS + 1)))
    bins = np.clip(np.digitize(distances, edges[1:-1]), 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    per_class, per_bin = {}, {}
    with np.errstate(invalid='ignore', divide='ignore'):
        for variant in exp.variants:
            classes, binned = [], []
            for r in ctx.results[variant.key]:
                counted = run_counts(
                    ctx, predictions_path(exp, ctx.args, variant, r['seed']),
                    items, bins)
                intersection, union = counted['image']
                classes.append(100 * intersection / union)
                intersection, union = counted['bins']
                binned.append(100 * (intersection / union).mean(0))
            per_class[variant.key] = np.array(classes)
            per_bin[variant.key] = np.array(binned)
    return edges, counts, per_class, per_bin


def label_blind_ious(data_root: str, names: Sequence[str]) -> Dict[str, float]:
    """mIoU (%) of two networks that find every item's mask exactly but
    cannot tell its label: one that calls every item ``same``, and one
    that flips a fair coin per item (expected intersections over expected
    unions)."""
    pixels = np.zeros(len(dense.CLASSES))
    for name in names:
        label = _read(osp.join(data_root, 'ann_dir', 'test', name))
        pixels += np.bincount(label.ravel(), minlength=len(pixels))
    same, different = pixels[dense.SAME], pixels[dense.DIFFERENT]
    items = same + different
    return dict(
        all_same=(100 + 100 * same / items + 0) / 3,
        coin=(100 + 100 * (same / 2) / (same + different / 2) + 100 *
              (different / 2) / (different + same / 2)) / 3)


def class_table(ctx: Context, per_class: Dict[str, np.ndarray]) -> List[str]:
    """IoU of each class, mean ± std over the seeds."""
    rows = [[
        variant.label,
        *[mean_std(column, 1) for column in per_class[variant.key].T]
    ] for variant in ctx.experiment.variants]
    return table(['model', *[f'{name} IoU (%)' for name in dense.CLASSES]],
                 rows)


def distance_table(ctx: Context, edges: np.ndarray, counts: np.ndarray,
                   per_bin: Dict[str, np.ndarray]) -> List[str]:
    """Item IoU per distance bin, mean ± std over the seeds."""
    columns = ['model'] + [
        f'{lo:.0f}-{hi:.0f} px (n={n})'
        for lo, hi, n in zip(edges[:-1], edges[1:], counts)
    ]
    rows = [[
        variant.label, *[
            mean_std(column, 1) if np.isfinite(column).all() else '-'
            for column in per_bin[variant.key].T
        ]
    ] for variant in ctx.experiment.variants]
    return table(columns, rows)


# --------------------------------------------------------------------------
# plots


def plot_curves(ctx: Context, path: str) -> Tuple[List[int], Dict]:
    """Smoothed training loss and test mIoU after every validation, mean
    over the seeds, bands min-max; returns the validation iterations and
    the mIoU per variant (seeds x validations)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    window = min([CURVE_WINDOW] + [len(r['loss']) for r in all_runs(ctx)])
    curves, steps = {}, []
    for variant in ctx.experiment.variants:
        runs = ctx.results[variant.key]
        loss_steps = np.asarray(runs[0]['steps'])[window - 1:]
        losses = np.array([trailing_mean(r['loss'], window) for r in runs])
        color = plot_mean_band(axes[0], loss_steps, losses, variant.label)
        values = []
        for r in runs:
            steps, metric = metric_curve(ctx, variant.key, r['seed'])
            values.append(metric)
        curves[variant.key] = np.array(values)
        plot_mean_band(
            axes[1],
            np.asarray(steps),
            curves[variant.key],
            variant.label,
            marker='o',
            color=color)
    axes[0].set_title(f'training loss, mean of the last {window} logged')
    axes[0].set_ylabel('loss')
    axes[1].set_title('test mIoU after each validation')
    axes[1].set_ylabel('mIoU (%)')
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return steps, curves


def plot_distance(ctx: Context, edges: np.ndarray,
                  per_bin: Dict[str, np.ndarray], path: str) -> None:
    """Item IoU against distance: mean over seeds, bars min-max."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    centres = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(6, 4))
    for variant in ctx.experiment.variants:
        values = per_bin[variant.key]
        mean = values.mean(0)
        ax.errorbar(
            centres,
            mean,
            yerr=[mean - values.min(0),
                  values.max(0) - mean],
            marker='o',
            capsize=3,
            label=variant.label)
    ax.set_xlabel('distance of the two item centres (px)')
    ax.set_ylabel('item IoU (%), same and different')
    ax.set_title('IoU against distance (mean over seeds, bars: min-max)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)


# --------------------------------------------------------------------------
# the section

#: Parts every decode head has; what else a head holds is its context
#: block.
HEAD_PARTS = ('loss_decode', 'conv_seg', 'dropout', 'convs', 'conv_cat')


def block_phrase(block: nn.Module) -> str:
    """The context block of a decode head, with its inner sizes."""
    name = f'`{type(block).__name__}`'
    if hasattr(block, 'num_node'):
        return f'{name} ({block.num_state} states, {block.num_node} nodes)'
    if hasattr(block, 'inter_channels'):
        return (f'{name} ({block.inter_channels} inter channels, '
                f'{block.mode.replace("_", " ")})')
    if hasattr(block, 'planes'):
        return f'{name} ({block.planes} channels in its transform)'
    return name


def head_lines(ctx: Context) -> List[str]:
    """The decode head of each variant, read from its built model."""
    lines = []
    for variant in ctx.experiment.variants:
        head = init_model(run_config(ctx.experiment, variant,
                                     ctx.args)).decode_head
        blocks = [
            block_phrase(module) for name, module in head.named_children()
            if name not in HEAD_PARTS
        ]
        recurrence = getattr(head, 'recurrence', None)
        inside = ', '.join(blocks) + (f' applied {recurrence} times'
                                      if recurrence else '')
        lines.append(f'- {variant.label}: `{type(head).__name__}`, '
                     f'{head.in_channels} -> {head.channels} channels' +
                     (f', with {inside} between its convs' if blocks else ''))
    return lines


def finding_lines(ctx: Context, blind: Dict[str, float], widths: List[int],
                  distances: np.ndarray, edges: np.ndarray,
                  per_bin: Dict[str, np.ndarray]) -> List[str]:
    """What the numbers say, written from them."""
    exp = ctx.experiment
    base = exp.baseline
    lines = [
        'Chance levels: a network that finds every item exactly but labels '
        'it independently of the other item, as a network that sees one '
        'item at a time must, scores an mIoU of '
        f'{blind["all_same"]:.2f}% on these test canvases if it calls '
        f'every item same, and {blind["coin"]:.2f}% (expected) if it flips '
        'a coin per item.', ''
    ]
    if base in ctx.results:
        base_runs = [r['metric'] for r in ctx.results[base]]
        better = [
            v.label for v in exp.variants if v.key != base
            and separation([r['metric']
                            for r in ctx.results[v.key]], base_runs).above
        ]
        lines.append(
            f'The plain network reaches {np.mean(base_runs):.2f}%. ' +
            (f'{", ".join(better)} beat{"s" if len(better) == 1 else ""} '
             'it by more than twice the larger seed std.'
             if better else 'No head beats it by more than twice the '
             'larger seed std.'))
    names = [f'res{i + 2}' for i in range(len(widths))]
    within = '; '.join(f'{n}: {100 * np.mean(distances < w):.0f}%'
                       for n, w in zip(names, widths))
    lines += [
        '', 'Where the plain backbone can relate the items: one central '
        'output position of each of its stages depends on an input window ' +
        ', '.join(f'{n} {w} px' for n, w in zip(names, widths)) +
        ' wide (the theoretical bound, measured by back-propagation through '
        'the built model; the effective windows are smaller), and each head '
        'adds its own convolutions on the res5 maps. Both item centres lie '
        'within such a window (their distance is less than its width) for '
        f'this share of the test canvases: {within}.'
    ]
    changes = []
    for variant in exp.variants:
        mean = per_bin[variant.key].mean(0)
        valid = np.flatnonzero(np.isfinite(mean))
        if len(valid) > 1:
            changes.append(f'{variant.label} '
                           f'{mean[valid[-1]] - mean[valid[0]]:+.1f}')
    if changes:
        lines += [
            '', 'From the nearest to the farthest distance bin '
            f'({edges[0]:.0f}-{edges[1]:.0f} px to '
            f'{edges[-2]:.0f}-{edges[-1]:.0f} px) the mean item IoU changes '
            'by (points): ' + '; '.join(changes) + '.'
        ]
    return lines


def data_lines(info: Dict, num_test: int) -> List[str]:
    """The task and the data set, from its ``info.json``."""
    height, width = info['canvas']
    source = (f'Debian\'s `{fashion_mnist.DEBIAN_PACKAGE}`'
              if info['source_dir'] == fashion_mnist.DEBIAN_DIR else
              f'the IDX files of `{info["source_dir"]}`')
    size = info['item_size']
    return [
        'The relation of the pairs experiment made dense: each '
        f'{height}x{width} canvas holds two {size}x{size} Fashion-MNIST '
        'items whose centres are at least '
        f'{info["min_distance"]:g} px apart (at random positions), on uniform '
        f'background noise 0-{info["noise"]}. A pixel of an item (brighter '
        f'than {info["threshold"]}) is `same` when the other item has its '
        'class and `different` when it has not, every other pixel '
        '`background`. Half of the canvases hold two items of one class, '
        'the others two classes (the first uniform over the ten, the '
        'second over the nine others), so an item of any class is `same` '
        'with probability one half: one item alone says nothing of its '
        'label. '
        'Training canvases take their items from the training split, test '
        f'canvases from the test split. {info["counts"]["train"]:,} '
        f'training and {info["counts"]["test"]:,} test canvases (the first '
        f'{num_test:,} evaluated), generated with seed {info["seed"]} by '
        '`tools/dataset_converters/fashion_mnist_dense.py` from '
        f'{source}.'
    ]


def report(ctx: Context) -> List[str]:
    """The experiment's section; draws the curves and distance plots."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    data_root = data_root_of(exp, args)
    info = dense.read_info(data_root)
    shape = input_shape(cfg, data_root)
    backbone = init_model(cfg).backbone
    stages, _ = backbone_shapes(backbone, shape)
    widths = receptive_widths(backbone, shape)
    edges, counts, per_class, per_bin = iou_results(ctx)
    first = predictions_path(exp, args, exp.variants[0],
                             ctx.results[exp.variants[0].key][0]['seed'])
    names = sorted(os.listdir(first))
    items = [
        item for item in dense.read_items_table(data_root, 'test')
        if item['filename'] in set(names)
    ]
    distances = np.array([item['distance'] for item in items])
    plot_distance(ctx, edges, per_bin,
                  osp.join(args.images, ctx.images['distance']))
    steps, curves = plot_curves(ctx, osp.join(args.images,
                                              ctx.images['curves']))
    cost, repeats = cost_table(
        ctx, shape,
        partial(segmentation_batch, num_classes=len(dense.CLASSES)))
    b = cfg.model.backbone
    lines = [
        f'## {exp.title}', '', *data_lines(info, len(names)), '',
        f'FCN-R{b.depth}-D8 ({b.type}-{b.depth} with {b.base_channels} base '
        'channels, widths ' + '-'.join(str(s[0]) for s in stages) + ' on ' +
        ', '.join(f'{h}x{w}' for _, h, w in stages) + ' maps, one input '
        'channel, no auxiliary head) trained from scratch for '
        f'{cfg.train_cfg.max_iters} iterations of '
        f'{cfg.train_dataloader.batch_size} canvases '
        f'({optimizer_phrase(cfg)}, {decay_name(cfg)} decay), with one of '
        'these decode heads on its res5 maps:', '', *head_lines(ctx), '',
        *results_table(ctx), '', *comparison_lines(ctx, exp.baseline), '',
        'Per class (IoU over all test canvases, from the kept predictions; '
        'mean ± std over the seeds):', '', *class_table(ctx, per_class), '',
        *finding_lines(ctx, label_blind_ious(data_root, names), widths,
                       distances, edges, per_bin), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{cfg.default_hooks.logger.interval} iterations) over the first '
        f'and last {LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
        f'![training loss]({image_link(ctx, "loss")})', '',
        '### Training curves', '', 'Test mIoU (%) after every validation, '
        'mean ± std over the seeds (the plot: means, bands from the lowest '
        'to the highest seed):', '',
        *table(['model'] + [f'iter {s}' for s in steps],
               [[v.label, *[mean_std(c, 1) for c in curves[v.key].T]]
                for v in exp.variants]), '',
        f'![training curves]({image_link(ctx, "curves")})', '',
        '### IoU against distance', '',
        'Mean IoU (%) of the same and different classes over the 28x28 '
        'boxes of the test items, per bin of the distance of the two item '
        'centres (bins between quantiles), mean ± std over the seeds, from '
        'the predictions of `tools/test.py --out`:', '',
        *distance_table(ctx, edges, counts, per_bin), '',
        f'![IoU against distance]({image_link(ctx, "distance")})', '',
        '### Cost', '',
        'Parameters and FLOPs of one canvas (inference path, a multiply-add '
        'is one FLOP); seconds per training iteration as logged by the runs '
        '(median of the logged `time`, mean over the seeds; '
        f'{runs_at_a_time(args)}) and measured side by side in one process: '
        f'{repeats} training steps (`model.train_step` with the config\'s '
        'optimiser) of each model on random batches of '
        f'{cfg.train_dataloader.batch_size}, interleaved, median '
        f'({args.threads} thread(s)).', '', *cost, ''
    ]
    if 'vis' in ctx.images:
        name, unit = glore_unit(
            run_config(exp, variant_of(exp, exp.visualise), args))
        where = 'head' if name.startswith('decode_head') else stage_name(name)
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained GloRe {where} unit '
            f'(seed {args.seeds[0]}) on test canvas 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    predict = ('time not recorded' if ctx.predict_seconds is None else
               f'{ctx.predict_seconds / 60:.1f} min summed over the runs')
    return lines + [
        f'Test predictions (`tools/test.py --out`, every run): {predict}.', '',
        *section_end(ctx)
    ]
