# Copyright (c) glore_mm contributors. All rights reserved.
"""Relations: canvases of two Fashion-MNIST items far apart, same class or
not. ResNet_CIFAR-18 plain, with one GloRe unit after res3, or with one
mmcv NonLocal2d there; test accuracy, when each run left chance level,
the cost of each model, and the accuracy against the distance of the items
(from the test predictions of ``tools/test.py --out``)."""
import os.path as osp
from functools import partial
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from curves import (curve_finding_lines, curve_lines, left_chance_at,
                    plot_curves)
from experiment import (Context, data_root_of, predictions_path,
                        require_debian_fashion_mnist, run_config, variant_of)
from mmengine.config import Config
from report import (LOSS_WINDOW, comparison_lines, cost_table, decay_name,
                    decay_step, glore_unit, image_link, machine_lines,
                    optimizer_phrase, plural, rerun_lines, results_table,
                    runs_at_a_time, settings_lines, stage_name, table)

from glore_mm.analysis.cost import classification_batch
from glore_mm.analysis.probes import (backbone_shapes, module_outputs,
                                      receptive_widths)
from glore_mm.analysis.statistics import mean_std, separation
from glore_mm.apis import init_model
from glore_mm.datasets import fashion_mnist, fashion_mnist_pairs
from glore_mm.utils import save_figure

#: Bins of the accuracy against distance: quantiles of the test distances.
DISTANCE_BINS = 4
#: A plain network whose mean accuracy is below this is close to chance.
NEAR_CHANCE = 55


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the pairs set, else generate it.

    The set is generated with the defaults of
    ``tools/dataset_converters/fashion_mnist_pairs.py`` from the Debian
    package's files.
    """
    if fashion_mnist_pairs.is_made(data_root):
        return
    debian_dir = require_debian_fashion_mnist(fashion_mnist_pairs.INFO_FILE,
                                              'fashion_mnist_pairs.py',
                                              data_root)
    print(f'Generating the Fashion-MNIST pairs in {data_root} from '
          f'{debian_dir}')
    fashion_mnist_pairs.make_fashion_mnist_pairs(
        debian_dir, data_root, overwrite=True)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One canvas: (channels, height, width)."""
    info = fashion_mnist_pairs.read_info(data_root)
    return (cfg.model.backbone.in_channels, *info['canvas'])


def vis_input(ctx: Context) -> str:
    """Test canvas 0."""
    return osp.join(
        data_root_of(ctx.experiment, ctx.args), 'test', '000000.png')


# --------------------------------------------------------------------------
# accuracy against distance


def read_correct(path: str) -> Dict[str, bool]:
    """Test file name -> whether its prediction in ``path`` is right."""
    import mmengine
    return {
        osp.basename(r['img_path']): int(r['pred_label']) == int(r['gt_label'])
        for r in mmengine.load(path)
    }


def accuracy_by_distance(correct: Dict[str, bool], samples: List[Dict],
                         edges: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Accuracy (%) and number of the predicted samples per distance bin.

    Args:
        correct (dict[str, bool]): File name -> prediction right.
        samples (list[dict]): Rows of the test split's ``meta/test.csv``.
        edges (np.ndarray): Bin edges; the last bin includes its end.

    Returns:
        tuple[np.ndarray, np.ndarray]: Accuracy per bin (NaN where empty)
        and the number of samples per bin.
    """
    kept = [s for s in samples if s['filename'] in correct]
    distance = np.array([s['distance'] for s in kept])
    right = np.array([correct[s['filename']] for s in kept], dtype=float)
    bins = np.clip(np.digitize(distance, edges[1:-1]), 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    sums = np.bincount(bins, weights=right, minlength=len(edges) - 1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return 100 * sums / counts, counts


def distance_results(
        ctx: Context) -> Tuple[np.ndarray, np.ndarray, Dict[str, np.ndarray]]:
    """Bin edges, counts and per-variant accuracies (seeds x bins)."""
    samples = fashion_mnist_pairs.read_samples(
        data_root_of(ctx.experiment, ctx.args), 'test')
    edges = np.unique(
        np.quantile([s['distance'] for s in samples],
                    np.linspace(0, 1, DISTANCE_BINS + 1)))
    accuracies, counts = {}, None
    for variant in ctx.experiment.variants:
        rows = []
        for r in ctx.results[variant.key]:
            correct = read_correct(
                predictions_path(ctx.experiment, ctx.args, variant, r['seed']))
            accuracy, counts = accuracy_by_distance(correct, samples, edges)
            rows.append(accuracy)
        accuracies[variant.key] = np.array(rows)
    return edges, counts, accuracies


def distance_table(ctx: Context, edges: np.ndarray, counts: np.ndarray,
                   accuracies: Dict[str, np.ndarray]) -> List[str]:
    """Accuracy per distance bin, mean ± std over the seeds."""
    columns = ['model'] + [
        f'{lo:.0f}-{hi:.0f} px (n={n})'
        for lo, hi, n in zip(edges[:-1], edges[1:], counts)
    ]
    rows = []
    for variant in ctx.experiment.variants:
        cells = [
            mean_std(column, 1) if np.isfinite(column).all() else '-'
            for column in accuracies[variant.key].T  # one column per bin
        ]
        rows.append([variant.label, *cells])
    return table(columns, rows)


def plot_distance(ctx: Context, edges: np.ndarray,
                  accuracies: Dict[str, np.ndarray], path: str) -> None:
    """Test accuracy against distance: mean over seeds, bars min-max."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    centres = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(6, 4))
    for variant in ctx.experiment.variants:
        values = accuracies[variant.key]
        mean = values.mean(0)
        ax.errorbar(
            centres,
            mean,
            yerr=[mean - values.min(0),
                  values.max(0) - mean],
            marker='o',
            capsize=3,
            label=variant.label)
    ax.axhline(50, color='grey', linestyle=':', label='chance')
    ax.set_xlabel('distance of the item centres (px)')
    ax.set_ylabel('test accuracy (%)')
    ax.set_title('accuracy against distance (mean over seeds, bars: '
                 'min-max)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)


# --------------------------------------------------------------------------
# models and cost


def block_lines(ctx: Context, canvas: Sequence[int]) -> List[str]:
    """What each variant adds to the backbone, read from its built model."""
    described = []
    for variant in ctx.experiment.variants:
        backbone = init_model(run_config(ctx.experiment, variant,
                                         ctx.args)).backbone
        if not hasattr(backbone, 'named_glore_units'):
            continue
        units = dict(backbone.named_glore_units())
        with torch.no_grad():
            outputs = module_outputs(
                backbone, list(units),
                torch.zeros(1, ctx.cfg.model.backbone.in_channels, *canvas))
        for name, unit in units.items():
            channels, height, width = outputs[name].shape[1:]
            if hasattr(unit, 'num_node'):
                inner = (f'{unit.num_state} states, {unit.num_node} nodes')
            else:
                inner = (f'{unit.inter_channels} inter channels, '
                         f'{unit.mode.replace("_", " ")}')
            described.append(
                f'- {variant.label}: `{type(unit).__name__}` after '
                f'`{name.rsplit(".", 1)[0]}` ({stage_name(name)}, {channels} '
                f'channels on {height}x{width} maps: {inner})')
    return described


# --------------------------------------------------------------------------
# the section


def finding_lines(ctx: Context, widths: List[int], canvas: Sequence[int],
                  distances: Sequence[float], edges: np.ndarray,
                  accuracies: Dict[str, np.ndarray]) -> List[str]:
    """What the numbers say, written from them."""
    exp = ctx.experiment
    labels = {v.key: v.label for v in exp.variants}
    means = {
        key: np.mean([r['metric'] for r in runs])
        for key, runs in ctx.results.items()
    }
    lines = []
    base = exp.baseline
    if base in ctx.results:
        base_runs = [r['metric'] for r in ctx.results[base]]
        better = [
            labels[key] for key, runs in ctx.results.items()
            if key != base and separation([r['metric']
                                           for r in runs], base_runs).above
        ]
        near_chance = means[base] < NEAR_CHANCE
        lines.append(
            f'The plain network reaches {means[base]:.2f}% '
            f'({"close to" if near_chance else "above"} the 50% of '
            'chance). ' +
            (f'{", ".join(better)} beat{"s" if len(better) == 1 else ""} '
             'it by more than twice the larger seed std.' if better else
             'No variant beats it by more than twice the larger seed '
             'std.'))
    distances = np.asarray(distances)
    names = [f'res{i + 2}' for i in range(len(widths))]
    windows = ', '.join(f'{n} {w} px' for n, w in zip(names, widths))
    within = '; '.join(f'{n}: {100 * np.mean(distances < w):.0f}%'
                       for n, w in zip(names, widths))
    unit_stage = names[1]  # where the units of the variants sit
    if lines:
        lines.append('')
    lines.append(
        'Where the plain network can relate the items: one central output '
        'position of each of its stages depends on an input window '
        f'{windows} wide (of the {canvas[1]} px canvas; the theoretical '
        'bound, measured by back-propagation through the built model: the '
        'effective windows are smaller). Two item centres fall in one '
        'window when their distance is less than its width, which holds '
        f'for this share of the test canvases: {within}. So a plain '
        'network can compare the items of those canvases within its '
        'stages, before the global average pooling and linear layer of its '
        f'head; at {unit_stage}, where the global blocks sit, a window '
        f'holds both centres for {100 * np.mean(distances < widths[1]):.0f}% '
        'of them.')
    changes = []
    for variant in exp.variants:
        mean = accuracies[variant.key].mean(0)
        valid = np.flatnonzero(np.isfinite(mean))
        if len(valid) > 1:
            changes.append(f'{variant.label} '
                           f'{mean[valid[-1]] - mean[valid[0]]:+.1f}')
    if changes:
        lines += [
            '', 'From the nearest to the farthest distance bin '
            f'({edges[0]:.0f}-{edges[1]:.0f} px to '
            f'{edges[-2]:.0f}-{edges[-1]:.0f} px) the mean accuracy changes '
            'by (points): ' + '; '.join(changes) + '.'
        ]
    return lines


def data_lines(info: Dict, distances: Sequence[float]) -> List[str]:
    """The task and the data set, from its ``info.json``."""
    height, width = info['canvas']
    source = (f'Debian\'s `{fashion_mnist.DEBIAN_PACKAGE}`'
              if info['source_dir'] == fashion_mnist.DEBIAN_DIR else
              f'the IDX files of `{info["source_dir"]}`')
    return [
        f'A relational task: each {height}x{width} canvas holds two '
        f'{info["item_size"]}x{info["item_size"]} Fashion-MNIST items whose '
        f'centres are at least {info["min_distance"]:g} px apart (at random '
        f'positions; {min(distances):.0f}-{max(distances):.0f} px on the '
        f'test canvases) on uniform background noise 0-{info["noise"]}, '
        'labelled by whether the two items are of the same class (half '
        'and half). Training canvases take their items from the training '
        'split, test canvases from the test split (unseen items). '
        f'{info["counts"]["train"]:,} training and '
        f'{info["counts"]["test"]:,} test canvases, generated with seed '
        f'{info["seed"]} by `tools/dataset_converters/fashion_mnist_pairs.py` '
        f'from {source}.'
    ]


def report(ctx: Context) -> List[str]:
    """The experiment's section; draws the curves and distance plots."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    data_root = data_root_of(exp, args)
    info = fashion_mnist_pairs.read_info(data_root)
    canvas = tuple(info['canvas'])
    samples = fashion_mnist_pairs.read_samples(data_root, 'test')
    num_train = (
        cfg.train_dataloader.dataset.get('indices') or info['counts']['train'])
    num_test = (
        cfg.val_dataloader.dataset.get('indices') or info['counts']['test'])
    distances = [s['distance'] for s in samples]
    backbone = cfg.model.backbone
    shape = (backbone.in_channels, *canvas)
    stages, _ = backbone_shapes(init_model(cfg).backbone, shape)
    widths = receptive_widths(init_model(cfg).backbone, shape)
    edges, counts, accuracies = distance_results(ctx)
    plot_distance(ctx, edges, accuracies,
                  osp.join(args.images, ctx.images['distance']))
    left = {
        key: [left_chance_at(r) for r in runs]
        for key, runs in ctx.results.items()
    }
    curves, epoch_accuracies, epochs = curve_lines(ctx, left)
    plot_curves(ctx, epoch_accuracies, epochs,
                osp.join(args.images, ctx.images['curves']))
    cost, repeats = cost_table(ctx, shape,
                               partial(classification_batch, num_classes=2))
    lines = [
        f'## {exp.title}', '', *data_lines(info, distances), '',
        'mmpretrain\'s `ResNet_CIFAR` (3x3 stem, no max-pool) at depth '
        f'{backbone.depth} with {backbone.base_channels} base channels '
        '(widths ' + '-'.join(str(s[0]) for s in stages) + ' on ' +
        ', '.join(f'{h}x{w}' for _, h, w in stages) + ' maps), one input '
        'channel, global average pooling and a linear 2-class head, trained '
        f'from scratch on the first {num_train:,} training canvases for '
        f'{plural(cfg.train_cfg.max_epochs, "epoch")}, batch '
        f'{cfg.train_dataloader.batch_size}, {optimizer_phrase(cfg)} with a '
        f'{decay_name(cfg)} decay per {decay_step(cfg)}; accuracy on the '
        f'first {num_test:,} test canvases. The variants add one block each:',
        '', *block_lines(ctx, canvas), '', *results_table(ctx), '',
        *comparison_lines(ctx, exp.baseline), '',
        *finding_lines(ctx, widths, canvas, distances, edges, accuracies), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{cfg.default_hooks.logger.interval} iterations) over the first '
        f'and last {LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
        f'![training loss]({image_link(ctx, "loss")})', '',
        '### Training curves', '',
        'Test accuracy (%) after every epoch, mean ± std over the seeds, '
        'and the iteration at which each run left chance level (the plot: '
        'means over the seeds, bands from the lowest to the highest seed):',
        '', *curves, '',
        *curve_finding_lines(ctx, left, epoch_accuracies, epochs), '',
        f'![training curves]({image_link(ctx, "curves")})', '',
        '### Accuracy against distance', '',
        'Test accuracy (%) per bin of the distance of the item centres '
        '(bins between the quantiles of the test canvases\' distances), '
        'mean ± std over the seeds, from the predictions of '
        '`tools/test.py --out`:', '',
        *distance_table(ctx, edges, counts, accuracies), '',
        f'![accuracy against distance]({image_link(ctx, "distance")})', '',
        '### Cost', '',
        'Parameters and FLOPs of one canvas (inference path, a multiply-add '
        'is one FLOP); seconds per training iteration as logged by the runs '
        '(median of the logged `time`, mean over the seeds; '
        f'{runs_at_a_time(args)}) and measured side by side in one process: '
        f'{repeats} training steps (`model.train_step` with the config\'s '
        'optimiser) of each model on random batches of '
        f'{cfg.train_dataloader.batch_size}, interleaved, median '
        f'({args.threads} thread(s)).', '', *cost, '', *rerun_lines(ctx)
    ]
    if 'vis' in ctx.images:
        name, unit = glore_unit(
            run_config(exp, variant_of(exp, exp.visualise), args))
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained {stage_name(name)} '
            f'unit (seed {args.seeds[0]}) on test canvas 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    return lines + [
        '### Settings', '', *settings_lines(ctx), '',
        'Test predictions (`tools/test.py --out`, every run): ' +
        (f'{ctx.predict_seconds / 60:.1f} min summed over the runs.'
         if ctx.predict_seconds is not None else 'time not recorded.'), '',
        '### Machine', '', *machine_lines(ctx)
    ]
