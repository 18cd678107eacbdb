# Copyright (c) glore_mm contributors. All rights reserved.
"""Training curves of the two-class experiments: the metric after every
epoch, as MMEngine logged it, and the iteration at which each run's loss
left chance level (ln 2), in tables, words and a plot.

The experiments whose label says whether two things far apart are alike
(``fashion_mnist_pairs``, ``fashion_mnist_clips``) start at chance and
part from it, or not, at some point of their training; these lines say
when.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from experiment import (Context, all_runs, metric_values, read_scalars,
                        run_dir, variant_of)
from report import plot_mean_band, table

from glore_mm.analysis.statistics import (first_step_below, mean_std,
                                          separation, trailing_mean)
from glore_mm.utils import save_figure

#: Mean loss of a 2-class model that outputs the same scores for every
#: input: chance level.
CHANCE_LOSS = float(np.log(2))
#: A run has left chance level at the first iteration at which its loss,
#: averaged over the last PLATEAU_WINDOW logged values, is below this.
LEFT_CHANCE_LOSS = 0.6
PLATEAU_WINDOW = 10


def left_chance_at(result: Dict) -> Optional[int]:
    """The first logged iteration at which the loss averaged over the last
    :data:`PLATEAU_WINDOW` logged values (the curve of :func:`plot_curves`)
    is below :data:`LEFT_CHANCE_LOSS`; None if it never is."""
    return first_step_below(result['loss'], result['steps'], LEFT_CHANCE_LOSS,
                            PLATEAU_WINDOW)


def metric_curve(ctx: Context, key: str,
                 seed: int) -> Tuple[List[int], List[float]]:
    """The validation steps (epochs) and metric values of one run, read
    from its ``vis_data/scalars.json``."""
    variant = variant_of(ctx.experiment, key)
    return metric_values(ctx.experiment,
                         read_scalars(run_dir(ctx.args, variant, seed)))


def curve_lines(
    ctx: Context, left: Dict[str, List[Optional[int]]]
) -> Tuple[List[str], Dict[str, np.ndarray], Dict[str, List[int]]]:
    """The training-curve table: when each run left chance level (``left``,
    per variant and seed, from :func:`left_chance_at`) and its test
    accuracy after every epoch; ``-`` after the last epoch of a variant
    trained for fewer epochs than another.

    Returns:
        tuple: The markdown lines, the accuracies per variant (seeds x
        epochs) and the epochs per variant.
    """
    exp = ctx.experiment
    accuracies, epochs = {}, {}
    for variant in exp.variants:
        rows = []
        for r in ctx.results[variant.key]:
            steps, values = metric_curve(ctx, variant.key, r['seed'])
            rows.append(values)
        epochs[variant.key] = steps
        accuracies[variant.key] = np.array(rows)
    every = sorted(set().union(*epochs.values()))
    columns = ['model', 'left chance at iteration (per seed)'
               ] + [f'epoch {e}' for e in every]
    rows = []
    for variant in exp.variants:
        left_at = ' / '.join('never' if i is None else str(i)
                             for i in left[variant.key])
        at = dict(zip(epochs[variant.key], accuracies[variant.key].T))
        cells = [mean_std(at[e], 1) if e in at else '-' for e in every]
        rows.append([variant.label, left_at, *cells])
    return table(columns, rows), accuracies, epochs


def curve_finding_lines(
        ctx: Context,
        left: Dict[str, List[Optional[int]]],
        accuracies: Dict[str, np.ndarray],
        epochs: Dict[str, Sequence[int]],
        baselines: Optional[Dict[str, str]] = None) -> List[str]:
    """Where in training the variants part from their baseline, in words.

    ``baselines`` maps a variant to the plain network it is compared with
    (default: every other variant to the experiment's baseline); they are
    compared at the epochs both logged."""
    exp = ctx.experiment
    base = exp.baseline
    parts = []
    for variant in exp.variants:
        reached = [i for i in left[variant.key] if i is not None]
        if not reached:
            parts.append(f'{variant.label} never did')
            continue
        when = (f'at iteration {min(reached)}' if len(reached) == 1 else
                f'between iterations {min(reached)} and {max(reached)}')
        parts.append(f'{variant.label} did in {len(reached)} of '
                     f'{len(left[variant.key])} seeds, {when}')
    lines = [
        f'When the runs left chance level (a loss of ln 2 = '
        f'{CHANCE_LOSS:.3f}; left when the mean of the last {PLATEAU_WINDOW} '
        f'logged losses falls below {LEFT_CHANCE_LOSS}): ' + '; '.join(parts) +
        '.'
    ]
    if baselines is None:
        baselines = {v.key: base for v in exp.variants if v.key != base}
    compared = {
        key: plain
        for key, plain in baselines.items()
        if key in accuracies and plain in accuracies
    }
    if not compared or len(ctx.args.seeds) < 2:
        return lines
    labels = {v.key: v.label for v in exp.variants}
    parted = []
    for key, plain in compared.items():
        plain_at = dict(zip(epochs[plain], accuracies[plain].T))
        above = [
            epoch for epoch, values in zip(epochs[key], accuracies[key].T)
            if epoch in plain_at and separation(values, plain_at[epoch]).above
        ]
        first = above[0] if above else None
        versus = '' if len(set(
            compared.values())) == 1 else (f' (vs {labels[plain]})')
        parted.append(f'{labels[key]}{versus} from epoch {first}' if first
                      is not None else f'{labels[key]}{versus} at no epoch')
    lines.append('The mean test accuracy exceeds the plain network\'s by more '
                 'than twice the larger seed std: ' + '; '.join(parted) + '.')
    return lines


def plot_curves(ctx: Context, accuracies: Dict[str, np.ndarray],
                epochs: Dict[str, Sequence[int]], path: str) -> None:
    """Smoothed training loss and test accuracy per epoch (``epochs`` per
    variant), mean over the seeds, bands min-max."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    # quick runs log fewer values than the window
    window = min([PLATEAU_WINDOW] + [len(r['loss']) for r in all_runs(ctx)])
    for variant in ctx.experiment.variants:
        runs = ctx.results[variant.key]
        steps = np.asarray(runs[0]['steps'])[window - 1:]
        curves = np.array([trailing_mean(r['loss'], window) for r in runs])
        color = plot_mean_band(axes[0], steps, curves, variant.label)
        plot_mean_band(
            axes[1],
            np.asarray(epochs[variant.key]),
            accuracies[variant.key],
            variant.label,
            marker='o',
            color=color)
    axes[0].axhline(
        CHANCE_LOSS, color='grey', linestyle=':', label='chance (ln 2)')
    axes[0].axhline(
        LEFT_CHANCE_LOSS,
        color='grey',
        linestyle='--',
        label=f'left chance ({LEFT_CHANCE_LOSS})')
    axes[0].set_title(f'training loss, mean of the last {window} logged')
    axes[0].set_xlabel('iteration')
    axes[0].set_ylabel('loss')
    axes[1].axhline(50, color='grey', linestyle=':', label='chance')
    axes[1].set_title('test accuracy after each epoch')
    axes[1].set_xlabel('epoch')
    axes[1].set_ylabel('test accuracy (%)')
    for ax in axes:
        ax.grid(alpha=0.3)
    # one legend under both plots, so that long labels cover no curve: the
    # variants and chance from the accuracy plot, the loss plot's levels
    handles, labels = axes[1].get_legend_handles_labels()
    variants = {v.label for v in ctx.experiment.variants}
    for handle, label in zip(*axes[0].get_legend_handles_labels()):
        if label not in variants:
            handles.append(handle)
            labels.append(label)
    fig.legend(
        handles,
        labels,
        loc='upper center',
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)
