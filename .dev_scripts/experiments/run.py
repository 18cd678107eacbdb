# Copyright (c) glore_mm contributors. All rights reserved.
"""Run one of the small GloRe experiments and write its report.

The experiments are data: ``experiments.yml`` (next to this file) names
each one's configs, variants, seeds and options. Each experiment trains its
variants once per seed through ``tools/train.py``, reads the metrics and
losses that MMEngine logs (``vis_data/scalars.json``), and writes its
section of a markdown report (tables, the settings, the machine and the
timings) and its plots, each file replaced atomically. Nothing in the
report is typed by hand: the numbers come from the logs and the settings it
quotes (epochs, batch, lr, schedule, iterations, sizes) from the configs
with the runs' ``--cfg-options`` applied.

The report goes to ``WORK_DIR/experiments.md`` (plots under
``WORK_DIR/images/``) unless ``--update-docs`` is given: then it replaces
the experiment's section of ``docs/experiments.md`` and its plots under
``docs/images/``. ``--doc`` and ``--images`` choose other files.

Experiments:
    fashion_mnist  ResNet_CIFAR-18 on Fashion-MNIST: plain, one GloRe unit
                   after res3, one after res4, and the res4 unit without
                   its zero-initialised gate; top-1 on the 10k test set.
    brain_mri      FCN-R18-D8 with mmseg's FCNHead vs the GloRe head on the
                   brain MRI slices; val mIoU; the projection maps of the
                   trained GloRe head on a val slice.
    fashion_mnist_pairs
                   ResNet_CIFAR-18 on canvases of two Fashion-MNIST items
                   far apart, same class or not: plain, one GloRe unit
                   after res3, one mmcv NonLocal2d there; test accuracy,
                   cost, and accuracy against the distance of the items
                   (from ``tools/test.py --out``).

Runs already finished in the work dir (``result.json`` present) are reused,
so an interrupted experiment continues where it stopped and a rerun only
regenerates the report; ``--force`` retrains everything. Each training run
is one process with ``--threads`` (default 1) intra-op threads: on a 2-core
machine shared with other jobs one thread per run is much faster than two.

Examples:
    python .dev_scripts/experiments/run.py fashion_mnist
    python .dev_scripts/experiments/run.py brain_mri --update-docs
    python .dev_scripts/experiments/run.py fashion_mnist_pairs
    python .dev_scripts/experiments/run.py fashion_mnist --quick \\
        --data-root /tmp/fashion_mnist --work-dir /tmp/exp
"""
import argparse
import datetime
import json
import logging
import os
import os.path as osp
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import yaml
from mmengine.config import Config

from glore_mm.analysis import glore_units_of
from glore_mm.analysis.report import cpu_name, package_versions
from glore_mm.datasets import fashion_mnist, fashion_mnist_pairs
from glore_mm.engine.arguments import build_train_parser
from glore_mm.engine.runner_setup import load_config
from glore_mm.utils import atomic_write, save_figure

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: This script as the report names it, relative to the repository.
SCRIPT = osp.relpath(osp.abspath(__file__), REPO).replace(os.sep, '/')
EXPERIMENTS_FILE = osp.join(
    osp.dirname(osp.abspath(__file__)), 'experiments.yml')
DOC = osp.join(REPO, 'docs', 'experiments.md')
IMAGES = osp.join(REPO, 'docs', 'images')
#: Iterations of the mean early and late training loss in the tables.
LOSS_WINDOW = 20


class Variant(NamedTuple):
    """One model of an experiment, trained once per seed."""
    key: str
    label: str
    config: str
    options: Sequence[str] = ()


class Experiment(NamedTuple):
    """One entry of ``experiments.yml``; its keys are explained there."""
    name: str
    title: str
    variants: Sequence[Variant]
    seeds: Sequence[int]
    metric: str
    metric_label: str
    options: Sequence[str]
    quick_options: Sequence[str]
    data_options: Sequence[str]
    data_root: str
    baseline: str
    visualise: str
    vis_image: Optional[str] = None
    predictions: bool = False


def load_experiments(path: str = EXPERIMENTS_FILE) -> Dict[str, Experiment]:
    """Read the experiments of ``path`` by name."""
    with open(path) as f:
        data = yaml.safe_load(f)
    experiments = {}
    for name, entry in data.items():
        variants = tuple(
            Variant(**dict(v, options=tuple(v.get('options', ()))))
            for v in entry.pop('variants'))
        experiments[name] = Experiment(
            name=name,
            variants=variants,
            **{
                key: tuple(value) if isinstance(value, list) else value
                for key, value in entry.items()
            })
    return experiments


EXPERIMENTS = load_experiments()


class Context(NamedTuple):
    """Everything a report needs."""
    experiment: Experiment
    args: argparse.Namespace
    results: Dict[str, List[Dict]]  # variant key -> one result per seed
    images: Dict[str, str]  # what -> image file name under --images
    cfg: Config  # the first variant's config as its runs saw it
    total_seconds: float
    # what the test predictions (Experiment.predictions) took, in s summed
    # over the runs; None where some were kept without their time
    predict_seconds: Optional[float] = None


# --------------------------------------------------------------------------
# data


def require_debian_fashion_mnist(missing: str, converter: str,
                                 data_root: str) -> str:
    """The Debian package's folder of the gzipped Fashion-MNIST files.

    Args:
        missing (str): What ``data_root`` lacks, for the message.
        converter (str): The file name of the converter under
            ``tools/dataset_converters/`` that makes ``data_root``.
        data_root (str): The folder the experiment reads.

    Raises:
        SystemExit: If the package is not installed, saying how to install
            it.
    """
    debian_dir = fashion_mnist.DEBIAN_DIR
    package = fashion_mnist.DEBIAN_PACKAGE
    if fashion_mnist.missing_sources(debian_dir):
        raise SystemExit(
            f'{data_root} lacks {missing} and {debian_dir} lacks the gzipped '
            f'Fashion-MNIST files. Install the Debian package {package}:\n'
            f'    apt-get update && apt-get install -y {package}\n'
            f'then rerun (it runs tools/dataset_converters/{converter} '
            f'{data_root}).')
    return debian_dir


def prepare_fashion_mnist(data_root: str) -> None:
    """Make sure ``data_root`` holds the four uncompressed IDX files."""
    if fashion_mnist.is_converted(data_root):
        return
    debian_dir = require_debian_fashion_mnist(
        str(list(fashion_mnist.FILES)), 'fashion_mnist.py', data_root)
    print(f'Preparing {data_root} from {debian_dir}')
    fashion_mnist.convert(debian_dir, data_root, overwrite=True)


def prepare_brain_mri(data_root: str) -> None:
    """Make sure ``data_root`` holds the converted slices, else convert."""
    if osp.isdir(osp.join(data_root, 'img_dir', 'val')):
        return
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'dataset_converters', 'brain_mri.py'),
        data_root
    ]
    print('Preparing the brain MRI slices:', ' '.join(cmd))
    subprocess.run(cmd, check=True, cwd=REPO)


def prepare_fashion_mnist_pairs(data_root: str) -> None:
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


# --------------------------------------------------------------------------
# running


def data_root_of(exp: Experiment, args: argparse.Namespace) -> str:
    """The data folder of the runs: ``--data-root``, else the default."""
    return args.data_root or osp.join(REPO, exp.data_root)


def train_command(config: str, work_dir: str,
                  options: Sequence[str]) -> List[str]:
    return [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, config), '--work-dir', work_dir, '--cfg-options',
        *options
    ]


def run_options(exp: Experiment, variant: Variant, seed: int,
                args: argparse.Namespace) -> List[str]:
    """All ``--cfg-options`` of one run."""
    options = [f'randomness.seed={seed}', *exp.options, *variant.options]
    if args.quick:
        options += exp.quick_options
    if args.data_root:
        options += [f'{key}={args.data_root}' for key in exp.data_options]
    return options


def run_config(exp: Experiment, variant: Variant,
               args: argparse.Namespace) -> Config:
    """The config of a variant as ``tools/train.py`` reads it for a run.

    Parsed and loaded as the training tool does, with the
    ``--cfg-options`` of the run of the first seed.
    """
    options = run_options(exp, variant, args.seeds[0], args)
    return load_config(build_train_parser().parse_args([
        osp.join(REPO, variant.config), '--work-dir', args.work_dir,
        '--cfg-options', *options
    ]))


def read_scalars(work_dir: str) -> List[Dict]:
    """The records of the newest ``<timestamp>/vis_data/scalars.json``."""
    runs = sorted(
        d for d in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    if not runs:
        raise RuntimeError(f'no vis_data/scalars.json under {work_dir}')
    path = osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summarise_run(work_dir: str, metric: str, seconds: float) -> Dict:
    """Loss curve, final metric and checkpoint of a finished run."""
    records = read_scalars(work_dir)
    train = [r for r in records if 'loss' in r and 'lr' in r]
    values = [r[metric] for r in records if metric in r]
    if not train or not values:
        raise RuntimeError(f'{work_dir}: no training loss or no {metric!r} '
                           f'in scalars.json')
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    return dict(
        steps=[r['step'] for r in train],
        loss=[r['loss'] for r in train],
        metric=values[-1],
        seconds=seconds,
        checkpoint=checkpoint)


def run_variant(exp: Experiment, variant: Variant, seed: int,
                args: argparse.Namespace) -> Dict:
    """Train one variant with one seed (or reuse a finished run)."""
    work_dir = osp.join(args.work_dir, variant.key, f'seed{seed}')
    result_file = osp.join(work_dir, 'result.json')
    options = run_options(exp, variant, seed, args)
    previous = None
    if osp.isfile(result_file):
        with open(result_file) as f:
            previous = json.load(f)
        if previous.get('options') != options:
            previous = None
        elif not args.force:
            print(f'[{exp.name}] {variant.key} seed {seed}: reusing '
                  f'{result_file}')
            return previous
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    cmd = train_command(variant.config, work_dir, options)
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads))
    print(
        f'[{exp.name}] {variant.key} seed {seed}: training, log in '
        f'{work_dir}/train.log',
        flush=True)
    load = os.getloadavg()[0]
    started = time.time()
    start = time.perf_counter()
    with open(osp.join(work_dir, 'train.log'), 'w') as log:
        code = subprocess.call(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f'training failed (exit {code}): {" ".join(cmd)}\n'
                         f'see {work_dir}/train.log')
    result = summarise_run(work_dir, exp.metric, seconds)
    result.update(
        seed=seed,
        options=options,
        config=variant.config,
        started=started,
        ended=started + seconds,
        load_at_start=load)
    if previous is not None:
        # --force retrained a finished run: did it reproduce it?
        result['rerun_of'] = dict(
            metric=previous['metric'],
            same_metric=previous['metric'] == result['metric'],
            same_loss=previous['loss'] == result['loss'],
            max_loss_diff=float(
                np.abs(np.subtract(previous['loss'], result['loss'])).max())
            if len(previous['loss']) == len(result['loss']) else None)
    atomic_write(json.dumps(result), result_file)
    print(
        f'[{exp.name}] {variant.key} seed {seed}: {exp.metric_label} '
        f'{result["metric"]:.2f} in {seconds:.0f} s',
        flush=True)
    return result


def parallel_map(function: Callable, items: Sequence, jobs: int) -> List:
    """``[function(item) for item in items]``, ``jobs`` calls at a time.

    The first failure cancels the calls not yet started, waits for the
    running ones and is raised.
    """
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [future.result() for future in futures]


def run_order(exp: Experiment,
              args: argparse.Namespace) -> List[Tuple[Variant, int]]:
    """Every (variant, seed) run, the costliest variants first.

    With several runs at a time (``--jobs``), starting the long runs first
    leaves the short ones to fill the cores at the end. The cost is the
    FLOPs of one input of the variant's model.
    """
    from mmengine.registry import init_default_scope

    from glore_mm.analysis import analyse_config_model
    variants = list(exp.variants)
    if args.jobs > 1:
        flops = {}
        for variant in variants:
            cfg = run_config(exp, variant, args)
            init_default_scope(cfg.default_scope)
            shape = EXPERIMENT_CODE[exp.name].input_shape(
                cfg, data_root_of(exp, args))
            flops[variant.key] = analyse_config_model(cfg.model,
                                                      shape)['flops']
        variants.sort(key=lambda v: -flops[v.key])
    return [(variant, seed) for variant in variants for seed in args.seeds]


def train_all(exp: Experiment,
              args: argparse.Namespace) -> Dict[str, List[Dict]]:
    """Train every variant with every seed, ``args.jobs`` runs at a time.

    Returns:
        dict[str, list[dict]]: Variant key -> its results, in seed order.
    """
    runs = run_order(exp, args)
    results = parallel_map(lambda run: run_variant(exp, run[0], run[1], args),
                           runs, args.jobs)
    done = {
        (variant.key, seed): result
        for (variant, seed), result in zip(runs, results)
    }
    return {
        v.key: [done[(v.key, seed)] for seed in args.seeds]
        for v in exp.variants
    }


def run_vis(config: str,
            checkpoint: str,
            image: str,
            out_dir: str,
            args: argparse.Namespace,
            options: Sequence[str] = (),
            nodes: int = 4) -> str:
    """Run tools/visualization/vis_projection.py; return its one PNG."""
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'visualization', 'vis_projection.py'),
        osp.join(REPO, config), checkpoint, image, '--out', out_dir, '--nodes',
        str(nodes)
    ]
    if options:
        cmd += ['--cfg-options', *options]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f'{" ".join(cmd)} failed:\n{out.stderr[-3000:]}')
    pngs = [line for line in out.stdout.splitlines() if line.endswith('.png')]
    if len(pngs) != 1:
        raise SystemExit(f'expected one PNG from {" ".join(cmd)}, got {pngs}')
    return pngs[0]


def predictions_file(exp: Experiment, variant: Variant, seed: int,
                     args: argparse.Namespace) -> str:
    """Where the test predictions of one run are kept."""
    return osp.join(args.work_dir, variant.key, f'seed{seed}',
                    'predictions.pkl')


def run_predictions(exp: Experiment, variant: Variant, result: Dict,
                    args: argparse.Namespace) -> Optional[float]:
    """Keep the test predictions of a trained run (``tools/test.py --out``).

    Reused while newer than the run's ``result.json``.

    Returns:
        float | None: The seconds ``tools/test.py`` took (recorded beside
        the predictions when they are reused); None for predictions kept
        without that record.
    """
    work_dir = osp.join(args.work_dir, variant.key, f'seed{result["seed"]}')
    out = predictions_file(exp, variant, result['seed'], args)
    seconds_file = osp.splitext(out)[0] + '_seconds.json'
    if osp.isfile(out) and osp.getmtime(out) >= osp.getmtime(
            osp.join(work_dir, 'result.json')):
        if not osp.isfile(seconds_file):
            return None
        with open(seconds_file) as f:
            return json.load(f)['seconds']
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'),
        osp.join(REPO, variant.config), result['checkpoint'], '--out', out,
        '--work-dir',
        osp.join(work_dir, 'test'), '--cfg-options', *result['options']
    ]
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads))
    print(
        f'[{exp.name}] {variant.key} seed {result["seed"]}: test '
        'predictions',
        flush=True)
    start = time.perf_counter()
    with open(osp.join(work_dir, 'test.log'), 'w') as log:
        code = subprocess.call(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0 or not osp.isfile(out):
        raise SystemExit(f'testing failed (exit {code}): {" ".join(cmd)}\n'
                         f'see {work_dir}/test.log')
    atomic_write(json.dumps(dict(seconds=seconds)), seconds_file)
    return seconds


# --------------------------------------------------------------------------
# files


def copy_atomic(src: str, dst: str) -> None:
    with open(src, 'rb') as f:
        atomic_write(f.read(), dst)


DOC_HEAD = """# Small experiments on real data

Evidence that fits a 2-core CPU: each experiment is one command, trains a few
small models with three seeds, and writes its own section below (tables,
plots under `images/`, settings, machine and timings) from the logged
numbers. Nothing between the `generated` markers is edited by hand; rerun
the command to regenerate it.

"""


def markers(name: str) -> tuple:
    return (f'<!-- generated by {SCRIPT} {name}: begin -->',
            f'<!-- generated by {SCRIPT} {name}: end -->')


def update_doc(path: str, name: str, body: List[str]) -> None:
    """Replace the generated section ``name`` of ``path`` (or append it)."""
    begin, end = markers(name)
    text = DOC_HEAD
    if osp.isfile(path):
        with open(path) as f:
            text = f.read()
    section = '\n'.join([begin, *body, end])
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip('\n') + '\n\n' + section + '\n'
    atomic_write(text, path)


# --------------------------------------------------------------------------
# reporting


def all_runs(ctx: Context) -> List[Dict]:
    """The results of every run, all variants and seeds."""
    return [r for results in ctx.results.values() for r in results]


def runs_at_a_time(args: argparse.Namespace) -> str:
    """``'runs one after another'`` or ``'2 runs at a time'``."""
    return ('runs one after another'
            if args.jobs == 1 else f'{args.jobs} runs at a time')


def machine_lines(ctx: Context) -> List[str]:
    import torch
    args = ctx.args
    versions = package_versions(('mmengine', 'mmcv', 'mmpretrain', 'mmseg'))
    runs = all_runs(ctx)
    if all('load_at_start' in r for r in runs):
        loads = [r['load_at_start'] for r in runs]
        load = (f'1-minute load average {min(loads):.1f} to '
                f'{max(loads):.1f} when the runs started')
    else:
        load = f'load average {args.load_at_start} when the experiment started'
    return [
        f'- CPU: {cpu_name()}, {os.cpu_count()} logical cores '
        f'({len(os.sched_getaffinity(0))} usable); '
        f'{args.threads} thread(s) per training run, {runs_at_a_time(args)}; '
        f'{load} (the cores were shared with other jobs)',
        f'- Python {platform.python_version()}, torch {torch.__version__}, ' +
        ', '.join(f'{name} {version}' for name, version in versions.items()),
        f'- Report written {datetime.date.today().isoformat()}',
    ]


def mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``mean ± std`` (sample std, n-1) of ``values``."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return f'{values.mean():.{digits}f}'
    return (f'{values.mean():.{digits}f} ± '
            f'{values.std(ddof=1):.{digits}f}')


def window_mean(loss: Sequence[float],
                steps: Sequence[int],
                first: bool,
                window: int = LOSS_WINDOW) -> float:
    """Mean logged loss over the first/last ``window`` iterations."""
    steps = np.asarray(steps)
    loss = np.asarray(loss)
    keep = steps <= window if first else steps > steps.max() - window
    return float(loss[keep].mean() if keep.any() else loss[0 if first else -1])


def results_table(ctx: Context) -> List[str]:
    exp = ctx.experiment
    seeds = ctx.args.seeds
    lines = [
        f'| model | {exp.metric_label}, seeds {", ".join(map(str, seeds))} '
        f'| mean ± std | loss, first {LOSS_WINDOW} iters | loss, last '
        f'{LOSS_WINDOW} iters | s per run (train + test) |',
        '|---|---|---|---|---|---|'
    ]
    for variant in exp.variants:
        runs = ctx.results[variant.key]
        metrics = [r['metric'] for r in runs]
        early = [window_mean(r['loss'], r['steps'], True) for r in runs]
        late = [window_mean(r['loss'], r['steps'], False) for r in runs]
        seconds = np.mean([r['seconds'] for r in runs])
        lines.append(f'| {variant.label} | '
                     f'{" / ".join(f"{m:.2f}" for m in metrics)} | '
                     f'{mean_std(metrics)} | {mean_std(early)} | '
                     f'{mean_std(late)} | {seconds:.0f} |')
    return lines


def comparison_lines(ctx: Context, baseline: str) -> List[str]:
    """Differences of means to the baseline, against the seed spread."""
    exp = ctx.experiment
    if baseline not in ctx.results:
        return []
    base = np.array([r['metric'] for r in ctx.results[baseline]])
    base_label = next(v.label for v in exp.variants if v.key == baseline)
    lines = []
    for variant in exp.variants:
        if variant.key == baseline:
            continue
        values = np.array([r['metric'] for r in ctx.results[variant.key]])
        diff = values.mean() - base.mean()
        if len(values) > 1 and len(base) > 1:
            spread = max(values.std(ddof=1), base.std(ddof=1))
            verdict = ('larger than' if abs(diff) > 2 * spread else 'within')
            verdict = (f'{verdict} twice the larger seed std '
                       f'({2 * spread:.2f})')
        else:
            verdict = 'one seed only: no spread to compare with'
        lines.append(f'- {variant.label}: {diff:+.2f} points vs '
                     f'{base_label}, {verdict}.')
    return lines


def stability_lines(ctx: Context) -> List[str]:
    """Whether any run diverged: a non-finite loss, or no decrease."""
    lines = []
    for variant in ctx.experiment.variants:
        runs = ctx.results[variant.key]
        bad = [
            r['seed'] for r in runs if not np.isfinite(r['loss']).all()
            or window_mean(r['loss'], r['steps'], False) >= window_mean(
                r['loss'], r['steps'], True)
        ]
        state = (f'diverged with seeds {bad}'
                 if bad else 'trained stably with every seed')
        peak = max(max(r['loss']) for r in runs)
        lines.append(f'- {variant.label}: {state} (highest logged loss '
                     f'{peak:.2f}).')
    return lines


def early_loss_line(ctx: Context, gated: str, ungated: str) -> List[str]:
    """How the early loss compares with and without the zero gate."""
    if gated not in ctx.results or ungated not in ctx.results:
        return []
    early = {
        key:
        np.mean([
            window_mean(r['loss'], r['steps'], True) for r in ctx.results[key]
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


def rerun_lines(ctx: Context) -> List[str]:
    """What retraining finished runs (``--force``) reproduced."""
    lines = []
    for variant in ctx.experiment.variants:
        for r in ctx.results[variant.key]:
            rerun = r.get('rerun_of')
            if rerun is None:
                continue
            if rerun['same_metric'] and rerun['same_loss']:
                outcome = 'the same metric and the same logged losses'
            else:
                outcome = (f'{r["metric"]:.2f} after {rerun["metric"]:.2f}, '
                           f'logged losses differing by up to '
                           f'{rerun["max_loss_diff"]}')
            lines.append(f'- {variant.label}, seed {r["seed"]}: retrained '
                         f'with `--force`, {outcome}.')
    if lines:
        lines = [
            'Reproducibility: runs retrained on this machine, compared '
            'with their first training:', '', *lines, ''
        ]
    return lines


def plot_mean_band(ax, x: np.ndarray, curves: np.ndarray, label: str,
                   **kwargs) -> str:
    """Plot the mean of ``curves`` (runs x points) over ``x`` with a band
    from their minimum to their maximum; return the line's colour."""
    line, = ax.plot(x, curves.mean(0), label=label, **kwargs)
    ax.fill_between(
        x, curves.min(0), curves.max(0), alpha=0.2, color=line.get_color())
    return line.get_color()


def plot_losses(ctx: Context, path: str, zoom: int) -> None:
    """Mean loss per variant over seeds (band: min-max), plus a zoom."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for variant in ctx.experiment.variants:
        runs = ctx.results[variant.key]
        steps = np.asarray(runs[0]['steps'])
        curves = np.array([r['loss'] for r in runs])
        for ax, keep in ((axes[0], steps > 0), (axes[1], steps <= zoom)):
            plot_mean_band(ax, steps[keep], curves[:, keep], variant.label)
    axes[0].set_title('training loss (mean over seeds, band: min-max)')
    axes[1].set_title(f'first {zoom} iterations')
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss (logged mean)')
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)


def image_link(ctx: Context, what: str) -> str:
    """Markdown path of an image, relative to the doc."""
    rel = osp.relpath(
        osp.join(ctx.args.images, ctx.images[what]),
        osp.dirname(osp.abspath(ctx.args.doc)))
    return rel.replace(os.sep, '/')


def settings_lines(ctx: Context) -> List[str]:
    exp = ctx.experiment
    args = ctx.args
    command = f'python {SCRIPT} {exp.name}'
    if args.quick:
        command += ' --quick'
    timing = f'total {ctx.total_seconds / 60:.1f} min'
    if args.jobs > 1:
        command += f' --jobs {args.jobs}'
        runs = all_runs(ctx)
        timing = (f'{runs_at_a_time(args)}; training '
                  f'{ctx.total_seconds / 60:.1f} min summed over the runs')
        if all('started' in r for r in runs):
            wall = (
                max(r['ended'] for r in runs) - min(r['started']
                                                    for r in runs))
            timing += (f', {wall / 60:.1f} min from the first start to the '
                       'last end')
    lines = [
        f'Command: `{command}` (from the repository root; '
        f'{len(exp.variants)} variants x {len(args.seeds)} seeds, '
        f'{timing}). Each run is:', '', '```',
        'python tools/train.py CONFIG --work-dir '
        f'{osp.relpath(args.work_dir, REPO)}/VARIANT/seedS --cfg-options ' +
        ' '.join(['randomness.seed=S', *exp.options] +
                 (list(exp.quick_options) if args.quick else [])), '```', '',
        '| variant | config | extra options |', '|---|---|---|'
    ]
    for variant in exp.variants:
        lines.append(f'| {variant.label} | `{variant.config}` | '
                     f'{" ".join(variant.options) or "-"} |')
    if args.quick:
        lines += [
            '', '**Quick mode**: a smoke test of the machinery on a tiny '
            'subset; the numbers mean nothing.'
        ]
    return lines


# --------------------------------------------------------------------------
# settings read from the configs


def first_scheduler(cfg: Config) -> dict:
    """The first (or only) entry of ``param_scheduler``."""
    schedulers = cfg.param_scheduler
    return schedulers if isinstance(schedulers, dict) else schedulers[0]


def optimizer_phrase(cfg: Config) -> str:
    """``'SGD lr 0.05'``: the optimiser and its learning rate."""
    optimizer = cfg.optim_wrapper.optimizer
    return f'{optimizer.type} lr {optimizer.lr:g}'


def decay_name(cfg: Config) -> str:
    """``'cosine'`` or ``'poly'``: the learning-rate decay."""
    name = first_scheduler(cfg).type
    return {'CosineAnnealingLR': 'cosine', 'PolyLR': 'poly'}.get(name, name)


def plural(count: int, noun: str) -> str:
    return f'{count} {noun}' + ('' if count == 1 else 's')


def build_model(cfg: Config):
    """The model of ``cfg``, built in its default scope."""
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def backbone_shapes(cfg: Config, image_size: Sequence[int]) -> tuple:
    """What the backbone of ``cfg``, freshly built, makes of one image.

    Args:
        cfg (Config): The config.
        image_size (Sequence[int]): (height, width) of a blank input.

    Returns:
        tuple: The (channels, height, width) after each res layer, in
        order, and ``{name: ((channels, height, width), unit)}`` of its
        GloRe units (``'layer2.1.glore'``).
    """
    import torch
    backbone = build_model(cfg).backbone
    units = glore_units_of(backbone)
    modules = {name: getattr(backbone, name) for name in backbone.res_layers}
    modules.update(units)
    shapes = {}

    def hook(name: str) -> Callable:

        def record(module, args, output) -> None:
            shapes.setdefault(name, tuple(output.shape[1:]))

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in modules.items()]
    inputs = torch.zeros(1, cfg.model.backbone.in_channels, *image_size)
    with torch.no_grad():
        backbone(inputs)
    for handle in handles:
        handle.remove()
    return ([shapes[name] for name in backbone.res_layers], {
        name: (shapes[name], unit)
        for name, unit in units.items()
    })


def glore_unit(cfg: Config):
    """The one GloRe unit of the model of ``cfg``: (name, unit)."""
    units = glore_units_of(build_model(cfg))
    if len(units) != 1:
        raise ValueError(f'expected one GloRe unit, found {list(units)}')
    return next(iter(units.items()))


# --------------------------------------------------------------------------
# Fashion-MNIST

FM_TRAIN = fashion_mnist.FILES['train-images-idx3-ubyte'][2]
FM_TEST = fashion_mnist.FILES['t10k-images-idx3-ubyte'][2]
NUMBER_WORDS = {1: 'one', 3: 'three'}


def unit_output_scale(cfg: Config, checkpoint: Optional[str], seed: int,
                      images: np.ndarray) -> float:
    """``||unit(x) - x|| / ||x||`` of the model's GloRe unit on ``images``.

    Without a checkpoint: a model freshly initialised (after
    ``set_random_seed(seed)``) in training mode, as the first training step
    sees it. With one: the trained model in eval mode.
    """
    import torch
    from mmengine.logging import MMLogger
    from mmengine.runner import load_checkpoint, set_random_seed
    set_random_seed(seed)
    model = build_model(cfg)
    if checkpoint is None:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every tensor
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
        model.train()
    else:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
        model.eval()
    units = [m for _, m in model.backbone.named_glore_units()]
    ratios = []

    def hook(unit, args, output):
        x = args[0]
        ratios.append(float((output - x).norm() / x.norm()))

    handle = units[0].register_forward_hook(hook)
    batch = torch.from_numpy(images.copy()).float()[:, None]
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=list(batch)), False)
        model.extract_feat(data['inputs'])
    handle.remove()
    return ratios[0]


def stage_name(unit_name: str) -> str:
    """``'res3'`` for a unit in ``layer2`` (``'backbone.layer2.1.glore'``)."""
    layer = next(p for p in unit_name.split('.') if p.startswith('layer'))
    return f'res{int(layer[len("layer"):]) + 1}'


def fashion_mnist_model(ctx: Context) -> Tuple[str, str]:
    """The backbone, and where the units of the experiment's variants go.

    Read from the built models of the configs of all the variants of the
    experiment, not only those run.
    """
    exp = EXPERIMENTS[ctx.experiment.name]
    backbone = ctx.cfg.model.backbone
    stages, _ = backbone_shapes(ctx.cfg, FM_TRAIN[1:])
    maps = [str(height) for _, height, _ in stages]
    in_channels = backbone.in_channels
    model = (f'at depth {backbone.depth} with {backbone.base_channels} base '
             'channels (widths ' + '-'.join(str(s[0]) for s in stages) +
             ' on ' + ', '.join(maps[:-1]) + f' and {maps[-1]} pixel maps), '
             f'{NUMBER_WORDS.get(in_channels, in_channels)} input channel' +
             ('' if in_channels == 1 else 's'))
    units = {}
    for variant in exp.variants:
        _, variant_units = backbone_shapes(
            run_config(exp, variant, ctx.args), FM_TRAIN[1:])
        for name, ((channels, height, width), unit) in variant_units.items():
            layer = name.split('.')[0]
            units.setdefault(
                name, f'{stage_name(name)} (`{layer}`, '
                f'{channels} channels: {unit.num_state} states, '
                f'{unit.num_node} nodes on {height}x{width})')
    return model, ' or of '.join(units.values())


def report_fashion_mnist(ctx: Context) -> List[str]:
    args = ctx.args
    cfg = ctx.cfg
    data_root = args.data_root or osp.join(REPO, ctx.experiment.data_root)
    test_images = fashion_mnist.read_idx(
        osp.join(data_root, 't10k-images-idx3-ubyte'))[:256]
    scale_rows = []
    for variant in ctx.experiment.variants:
        if not variant.key.startswith('res4x1'):
            continue
        runs = ctx.results[variant.key]
        variant_cfg = run_config(ctx.experiment, variant, args)
        init = [
            unit_output_scale(variant_cfg, None, r['seed'], test_images)
            for r in runs
        ]
        trained = [
            unit_output_scale(variant_cfg, r['checkpoint'], r['seed'],
                              test_images) for r in runs
        ]
        scale_rows.append(f'| {variant.label} | {mean_std(init, 3)} | '
                          f'{mean_std(trained, 3)} |')
    model, units = fashion_mnist_model(ctx)
    num_train = cfg.train_dataloader.dataset.get('indices') or FM_TRAIN[0]
    num_test = cfg.val_dataloader.dataset.get('indices')
    test = f'first {num_test:,}' if num_test else f'full {FM_TEST[0]:,}'
    scheduler = first_scheduler(cfg)
    per = ('iteration' if scheduler.get('convert_to_iter_based')
           or not scheduler.get('by_epoch', True) else 'epoch')
    lines = [
        f'## {ctx.experiment.title}', '',
        'mmpretrain\'s `ResNet_CIFAR` (3x3 stem, no max-pool) '
        f'{model}, trained from scratch on the first {num_train:,} of the '
        f'{FM_TRAIN[0]:,} training images (the same images for every run) '
        f'for {plural(cfg.train_cfg.max_epochs, "epoch")}, batch '
        f'{cfg.train_dataloader.batch_size}, {optimizer_phrase(cfg)} with a '
        f'{decay_name(cfg)} decay per {per}; top-1 on the {test} test '
        f'images. A GloRe unit goes after the last block of {units}. Data: '
        f'Debian\'s `{fashion_mnist.DEBIAN_PACKAGE}`, prepared by '
        '`tools/dataset_converters/fashion_mnist.py`.', '',
        *results_table(ctx), '',
        *comparison_lines(ctx, ctx.experiment.baseline), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{cfg.default_hooks.logger.interval} iterations) over the first '
        f'and last {LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
        f'![training loss]({image_link(ctx, "loss")})', '',
        'Stability (a run diverged if a logged loss is not finite or its '
        f'last {LOSS_WINDOW} iterations have no lower loss than its first):',
        '', *stability_lines(ctx), ''
    ]
    if scale_rows:
        lines += [
            '### What the zero-initialised gate does', '',
            'Size of the res4 unit\'s residual branch relative to its '
            'input, `||unit(x) - x|| / ||x||` on the first 256 test images, '
            'mean ± std over the seeds: at initialisation in training mode '
            '(what the first step sees) and after training in eval mode.', '',
            '| model | at init | trained |', '|---|---|---|', *scale_rows, '',
            'With the gate the unit is exactly the identity at the start '
            '(0); without it the unit adds a branch of the size shown to '
            'the features from the first step.', '',
            *early_loss_line(ctx, 'res4x1', 'res4x1_nozeroinit'), ''
        ]
    if 'vis' in ctx.images:
        vis_cfg = run_config(
            ctx.experiment,
            next(v for v in ctx.experiment.variants
                 if v.key == ctx.experiment.visualise), args)
        name, unit = glore_unit(vis_cfg)
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained {stage_name(name)} '
            f'unit (seed '
            f'{args.seeds[0]}) on test image 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    lines += [
        *rerun_lines(ctx), '### Settings', '', *settings_lines(ctx), '',
        '### Machine', '', *machine_lines(ctx)
    ]
    return lines


def vis_input_fashion_mnist(ctx: Context) -> str:
    """Test image 0 as a PNG under the work dir."""
    import cv2
    data_root = ctx.args.data_root or osp.join(REPO, ctx.experiment.data_root)
    image = fashion_mnist.read_idx(
        osp.join(data_root, 't10k-images-idx3-ubyte'))[0]
    inputs = osp.join(ctx.args.work_dir, 'inputs')
    os.makedirs(inputs, exist_ok=True)
    path = osp.join(inputs, 'fashion_mnist_t10k_00000.png')
    cv2.imwrite(path, image)
    return path


# --------------------------------------------------------------------------
# brain MRI


def report_brain_mri(ctx: Context) -> List[str]:
    from glore_mm.datasets.brain_mri import CLASSES
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    schedule = '' if args.quick else ', the schedule of the configs'
    data_root = args.data_root or osp.join(REPO, exp.data_root)
    num = {
        split: len(os.listdir(osp.join(data_root, 'img_dir', split)))
        for split in ('train', 'val')
    }
    backbone = cfg.model.backbone
    glore_variant = next(v for v in EXPERIMENTS[exp.name].variants
                         if v.key == exp.visualise)
    _, unit = glore_unit(run_config(exp, glore_variant, args))
    lines = [
        f'## {exp.title}', '',
        f'FCN-R{backbone.depth}-D8 ({backbone.type}-{backbone.depth} with '
        f'{backbone.base_channels} base channels, trained from scratch) on '
        f'the {"x".join(map(str, cfg.crop_size))} axial slices of the MNI '
        f'ICBM152 template ({len(CLASSES)} classes: {", ".join(CLASSES)}; '
        f'{num["train"]} train / {num["val"]} val slices, '
        '`tools/dataset_converters/brain_mri.py`), with mmseg\'s `FCNHead` '
        'or with the GloRe head (`GloReHead`: conv, GloRe unit with '
        f'{unit.num_state} states and {unit.num_node} nodes, conv). Trained '
        f'for {cfg.train_cfg.max_iters} iterations of '
        f'{cfg.train_dataloader.batch_size} crops ({optimizer_phrase(cfg)}, '
        f'{decay_name(cfg)} decay{schedule}); mIoU on the {num["val"]} val '
        'slices.', '', *results_table(ctx), '',
        *comparison_lines(ctx, exp.baseline), '',
        'Std is the sample standard deviation over the seeds; losses are '
        'the total training loss (decode + 0.4 auxiliary), logged as means '
        f'every {cfg.default_hooks.logger.interval} iterations.', '',
        f'![training loss]({image_link(ctx, "loss")})', ''
    ]
    if 'vis' in ctx.images:
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained GloRe head (seed '
            f'{args.seeds[0]}) on the held-out val slice `{exp.vis_image}`, '
            'drawn by `tools/visualization/vis_projection.py` (the 4 nodes '
            'with the most varied maps highlighted, contours where their '
            'normalised weight is at least 0.5):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    return lines + [
        *rerun_lines(ctx), '### Settings', '', *settings_lines(ctx), '',
        '### Machine', '', *machine_lines(ctx)
    ]


def vis_input_brain_mri(ctx: Context) -> str:
    """The experiment's val slice, else the first one."""
    data_root = ctx.args.data_root or osp.join(REPO, ctx.experiment.data_root)
    val_dir = osp.join(data_root, 'img_dir', 'val')
    image = osp.join(val_dir, ctx.experiment.vis_image)
    if not osp.isfile(image):
        image = osp.join(val_dir, sorted(os.listdir(val_dir))[0])
    return image


# --------------------------------------------------------------------------
# Fashion-MNIST pairs

#: Bins of the accuracy against distance: quantiles of the test distances.
DISTANCE_BINS = 4
#: Interleaved training steps timed per model (2 with --quick).
COST_REPEATS = 10


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
                predictions_file(ctx.experiment, variant, r['seed'], ctx.args))
            accuracy, counts = accuracy_by_distance(correct, samples, edges)
            rows.append(accuracy)
        accuracies[variant.key] = np.array(rows)
    return edges, counts, accuracies


#: Mean loss of a 2-class model that outputs the same scores for every
#: input: chance level.
CHANCE_LOSS = float(np.log(2))
#: A run has left chance level at the first iteration at which its loss,
#: averaged over the last PLATEAU_WINDOW logged values, is below this.
LEFT_CHANCE_LOSS = 0.6
PLATEAU_WINDOW = 10


def metric_curve(ctx: Context, key: str,
                 seed: int) -> Tuple[List[int], List[float]]:
    """The validation steps (epochs) and metric values of one run, read
    from its ``vis_data/scalars.json``."""
    records = read_scalars(osp.join(ctx.args.work_dir, key, f'seed{seed}'))
    metric = ctx.experiment.metric
    rows = [r for r in records if metric in r]
    return [r['step'] for r in rows], [r[metric] for r in rows]


def trailing_mean(loss: Sequence[float], window: int) -> np.ndarray:
    """Means of ``window`` consecutive values: element i is the mean of
    ``loss[i:i + window]``, the value at logged step i + window - 1."""
    return np.convolve(loss, np.ones(window) / window, 'valid')


def left_chance_at(result: Dict) -> Optional[int]:
    """The first logged iteration at which the loss averaged over the last
    :data:`PLATEAU_WINDOW` logged values (the curve of :func:`plot_curves`)
    is below :data:`LEFT_CHANCE_LOSS`; None if it never is."""
    loss = np.asarray(result['loss'])
    if len(loss) < PLATEAU_WINDOW:
        return None
    below = np.flatnonzero(
        trailing_mean(loss, PLATEAU_WINDOW) < LEFT_CHANCE_LOSS)
    if not len(below):
        return None
    return int(result['steps'][below[0] + PLATEAU_WINDOW - 1])


def curve_lines(
    ctx: Context, left: Dict[str, List[Optional[int]]]
) -> Tuple[List[str], Dict[str, np.ndarray], List[int]]:
    """The training-curve table: when each run left chance level (``left``,
    per variant and seed, from :func:`left_chance_at`) and its test
    accuracy after every epoch.

    Returns:
        tuple: The markdown lines, the accuracies per variant (seeds x
        epochs) and the epochs.
    """
    exp = ctx.experiment
    accuracies, epochs = {}, None
    for variant in exp.variants:
        rows = []
        for r in ctx.results[variant.key]:
            epochs, values = metric_curve(ctx, variant.key, r['seed'])
            rows.append(values)
        accuracies[variant.key] = np.array(rows)
    lines = [
        '| model | left chance at iteration (per seed) | ' +
        ' | '.join(f'epoch {e}' for e in epochs) + ' |',
        '|---|---|' + '---|' * len(epochs)
    ]
    for variant in exp.variants:
        cells = [mean_std(column, 1) for column in accuracies[variant.key].T]
        lines.append(f'| {variant.label} | ' +
                     ' / '.join('never' if i is None else str(i)
                                for i in left[variant.key]) + ' | ' +
                     ' | '.join(cells) + ' |')
    return lines, accuracies, epochs


def separated(values: np.ndarray, base: np.ndarray) -> bool:
    """Whether the mean of ``values`` exceeds that of ``base`` by more than
    twice the larger sample std (both 1-D, at least 2 values)."""
    spread = max(values.std(ddof=1), base.std(ddof=1))
    return bool(values.mean() - base.mean() > 2 * spread)


def curve_finding_lines(ctx: Context, left: Dict[str, List[Optional[int]]],
                        accuracies: Dict[str, np.ndarray],
                        epochs: Sequence[int]) -> List[str]:
    """Where in training the variants part from the baseline, in words."""
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
    if base not in accuracies or len(ctx.args.seeds) < 2:
        return lines
    parted = []
    for variant in exp.variants:
        if variant.key == base:
            continue
        first = next((epoch for epoch, values, base_values in zip(
            epochs, accuracies[variant.key].T, accuracies[base].T)
                      if separated(values, base_values)), None)
        parted.append(f'{variant.label} from epoch {first}'
                      if first is not None else f'{variant.label} at no epoch')
    lines.append('The mean test accuracy exceeds the plain network\'s by more '
                 'than twice the larger seed std: ' + '; '.join(parted) + '.')
    return lines


def plot_curves(ctx: Context, accuracies: Dict[str, np.ndarray],
                epochs: Sequence[int], path: str) -> None:
    """Smoothed training loss and test accuracy per epoch, mean over the
    seeds, bands min-max."""
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
            np.asarray(epochs),
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
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100, bbox_inches='tight')
    plt.close(fig)


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


def module_outputs(model, names: Sequence[str], inputs) -> Dict:
    """The outputs of the submodules ``names`` in ``model(inputs)``."""
    outputs = {}

    def hook(name: str) -> Callable:

        def record(module, args, output) -> None:
            outputs[name] = output

        return record

    handles = [
        model.get_submodule(name).register_forward_hook(hook(name))
        for name in names
    ]
    try:
        model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def receptive_widths(cfg: Config, image_size: Sequence[int]) -> List[int]:
    """Width in pixels that one central output of each res layer sees.

    Measured on the freshly built backbone of ``cfg`` (eval mode, a random
    input): the columns of the input whose gradient of the central output
    position of the layer is not zero.
    """
    import torch
    backbone = build_model(cfg).backbone
    backbone.eval()  # mmpretrain's ResNet.train returns None
    inputs = torch.rand(1, cfg.model.backbone.in_channels, *image_size)
    inputs.requires_grad_(True)
    outputs = module_outputs(backbone, backbone.res_layers, inputs)
    widths = []
    for name in backbone.res_layers:
        output = outputs[name]  # [1, C, h, w]
        height, width = output.shape[2:]
        grad, = torch.autograd.grad(
            output[0, :, height // 2, width // 2].sum(),
            inputs,
            retain_graph=True)
        columns = torch.nonzero(grad.abs().sum((0, 1, 2))).flatten()
        widths.append(int(columns.max() - columns.min() + 1))
    return widths


def pairs_units(ctx: Context, canvas: Sequence[int]) -> List[str]:
    """What each variant adds to the backbone, read from its built model."""
    import torch
    described = []
    for variant in ctx.experiment.variants:
        backbone = build_model(run_config(ctx.experiment, variant,
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
                f'{variant.label}: `{type(unit).__name__}` after '
                f'`{name.rsplit(".", 1)[0]}` ({stage_name(name)}, {channels} '
                f'channels on {height}x{width} maps: {inner})')
    return described


def train_step_call(cfg: Config, batch: int,
                    shape: Sequence[int]) -> Callable[[], None]:
    """One training step of the mmpretrain classifier of ``cfg`` on random
    data, with the config's optimiser, as the runner steps it
    (``model.train_step``)."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.structures import DataSample
    model = build_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    inputs = torch.rand(batch, 1, *shape) * 255
    samples = [DataSample().set_gt_label(i % 2) for i in range(batch)]
    data = dict(inputs=list(inputs), data_samples=samples)

    def call() -> None:
        model.train()
        model.train_step(data, optim_wrapper)

    return call


def logged_seconds_per_iter(work_dir: str) -> float:
    """Median logged ``time`` of a run's training iterations.

    The first logged record (the warm-up) is left out when there are more.
    """
    times = [
        r['time'] for r in read_scalars(work_dir)
        if 'time' in r and 'loss' in r and 'lr' in r
    ]
    return float(np.median(times[1:] if len(times) > 1 else times))


def cost_rows(ctx: Context, canvas: Sequence[int]) -> Tuple[List[str], int]:
    """Params, FLOPs and seconds per training iteration of each variant.

    Returns:
        tuple: The markdown rows and the number of timed steps per model.
    """
    import torch
    from mmengine.registry import init_default_scope

    from glore_mm.analysis import analyse_config_model
    from glore_mm.analysis.benchmark import time_interleaved
    torch.set_num_threads(ctx.args.threads)
    batch = ctx.cfg.train_dataloader.batch_size
    repeats = 2 if ctx.args.quick else COST_REPEATS
    complexity, calls, logged = {}, {}, {}
    for variant in ctx.experiment.variants:
        cfg = run_config(ctx.experiment, variant, ctx.args)
        init_default_scope(cfg.default_scope)
        complexity[variant.key] = analyse_config_model(
            cfg.model, (cfg.model.backbone.in_channels, *canvas))
        torch.manual_seed(0)
        calls[variant.key] = train_step_call(cfg, batch, canvas)
        logged[variant.key] = np.mean([
            logged_seconds_per_iter(
                osp.join(ctx.args.work_dir, variant.key, f'seed{r["seed"]}'))
            for r in ctx.results[variant.key]
        ])
    timings = {
        t.name: t.median
        for t in time_interleaved(calls, repeats, warmup=1)
    }
    base = ctx.experiment.baseline
    rows = []
    for variant in ctx.experiment.variants:
        key = variant.key
        ratio = (f'{timings[key] / timings[base]:.2f}x'
                 if base in timings else '-')
        rows.append(
            f'| {variant.label} | {complexity[key]["params"] / 1e3:.1f} k | '
            f'{complexity[key]["flops"] / 1e6:.1f} M | {logged[key]:.3f} | '
            f'{timings[key]:.3f} | {ratio} |')
    return rows, repeats


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
        base_runs = np.array([r['metric'] for r in ctx.results[base]])
        better = []
        for key, runs in ctx.results.items():
            values = np.array([r['metric'] for r in runs])
            if key == base or len(values) < 2 or len(base_runs) < 2:
                continue
            if separated(values, base_runs):
                better.append(labels[key])
        near_chance = means[base] < 55
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


def report_fashion_mnist_pairs(ctx: Context) -> List[str]:
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    data_root = data_root_of(ctx.experiment, ctx.args)
    info = fashion_mnist_pairs.read_info(data_root)
    canvas = tuple(info['canvas'])
    samples = fashion_mnist_pairs.read_samples(data_root, 'test')
    num_train = (
        cfg.train_dataloader.dataset.get('indices') or info['counts']['train'])
    num_test = (
        cfg.val_dataloader.dataset.get('indices') or info['counts']['test'])
    distances = [s['distance'] for s in samples]
    backbone = cfg.model.backbone
    stages, _ = backbone_shapes(cfg, canvas)
    widths = receptive_widths(cfg, canvas)
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
    cost, repeats = cost_rows(ctx, canvas)
    scheduler = first_scheduler(cfg)
    per = ('iteration' if scheduler.get('convert_to_iter_based')
           or not scheduler.get('by_epoch', True) else 'epoch')
    height, width = canvas
    source = (f'Debian\'s `{fashion_mnist.DEBIAN_PACKAGE}`'
              if info['source_dir'] == fashion_mnist.DEBIAN_DIR else
              f'the IDX files of `{info["source_dir"]}`')
    lines = [
        f'## {exp.title}', '',
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
        f'from {source}.', '',
        'mmpretrain\'s `ResNet_CIFAR` (3x3 stem, no max-pool) at depth '
        f'{backbone.depth} with {backbone.base_channels} base channels '
        '(widths ' + '-'.join(str(s[0]) for s in stages) + ' on ' +
        ', '.join(f'{h}x{w}' for _, h, w in stages) + ' maps), one input '
        'channel, global average pooling and a linear 2-class head, trained '
        f'from scratch on the first {num_train:,} training canvases for '
        f'{plural(cfg.train_cfg.max_epochs, "epoch")}, batch '
        f'{cfg.train_dataloader.batch_size}, {optimizer_phrase(cfg)} with a '
        f'{decay_name(cfg)} decay per {per}; accuracy on the first '
        f'{num_test:,} test canvases. The variants add one block each:', '',
        *[f'- {line}' for line in pairs_units(ctx, canvas)], '',
        *results_table(ctx), '', *comparison_lines(ctx, exp.baseline), '',
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
        '`tools/test.py --out`:', '', '| model | ' +
        ' | '.join(f'{lo:.0f}-{hi:.0f} px (n={n})'
                   for lo, hi, n in zip(edges[:-1], edges[1:], counts)) + ' |',
        '|---|' + '---|' * len(counts)
    ]
    for variant in exp.variants:
        cells = [
            mean_std(column, 1) if np.isfinite(column).all() else '-'
            for column in accuracies[variant.key].T  # one column per bin
        ]
        lines.append(f'| {variant.label} | ' + ' | '.join(cells) + ' |')
    lines += [
        '', f'![accuracy against distance]({image_link(ctx, "distance")})', '',
        '### Cost', '',
        'Parameters and FLOPs of one canvas (inference path, a multiply-add '
        'is one FLOP); seconds per training iteration as logged by the runs '
        '(median of the logged `time`, mean over the seeds; '
        f'{runs_at_a_time(args)}) and measured side by side in one process: '
        f'{repeats} training steps (`model.train_step` with the config\'s '
        'optimiser) of each model on random batches of '
        f'{cfg.train_dataloader.batch_size}, interleaved, median '
        f'({args.threads} thread(s)).', '',
        '| model | params | FLOPs | s/iter logged | s/iter interleaved | '
        'vs plain |', '|---|---|---|---|---|---|', *cost, '', *rerun_lines(ctx)
    ]
    if 'vis' in ctx.images:
        name, unit = glore_unit(
            run_config(exp,
                       next(v for v in exp.variants if v.key == exp.visualise),
                       args))
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained {stage_name(name)} '
            f'unit (seed {args.seeds[0]}) on test canvas 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    lines += [
        '### Settings', '', *settings_lines(ctx), '',
        'Test predictions (`tools/test.py --out`, every run): ' +
        (f'{ctx.predict_seconds / 60:.1f} min summed over the runs.'
         if ctx.predict_seconds is not None else 'time not recorded.'), '',
        '### Machine', '', *machine_lines(ctx)
    ]
    return lines


def vis_input_fashion_mnist_pairs(ctx: Context) -> str:
    """Test canvas 0."""
    return osp.join(
        data_root_of(ctx.experiment, ctx.args), 'test', '000000.png')


def input_shape_fashion_mnist(cfg: Config, data_root: str) -> tuple:
    return (cfg.model.backbone.in_channels, *FM_TRAIN[1:])


def input_shape_brain_mri(cfg: Config, data_root: str) -> tuple:
    return (3, *cfg.crop_size)


def input_shape_fashion_mnist_pairs(cfg: Config, data_root: str) -> tuple:
    info = fashion_mnist_pairs.read_info(data_root)
    return (cfg.model.backbone.in_channels, *info['canvas'])


class ExperimentCode(NamedTuple):
    """What differs between experiments beyond ``experiments.yml``."""
    prepare: Callable[[str], None]  # data_root -> its data, made if missing
    report: Callable[[Context], List[str]]  # the report's lines
    vis_input: Callable[[Context], str]  # the image whose projection is drawn
    # (config, data_root) -> shape of one model input, for the run order
    input_shape: Callable[[Config, str], tuple]


EXPERIMENT_CODE: Dict[str, ExperimentCode] = {
    'fashion_mnist':
    ExperimentCode(prepare_fashion_mnist, report_fashion_mnist,
                   vis_input_fashion_mnist, input_shape_fashion_mnist),
    'brain_mri':
    ExperimentCode(prepare_brain_mri, report_brain_mri, vis_input_brain_mri,
                   input_shape_brain_mri),
    'fashion_mnist_pairs':
    ExperimentCode(prepare_fashion_mnist_pairs, report_fashion_mnist_pairs,
                   vis_input_fashion_mnist_pairs,
                   input_shape_fashion_mnist_pairs),
}


def visualise(ctx: Context, vis_input: Callable[[Context], str]) -> None:
    """Draw the projection of the seed-0 unit of the visualised variant."""
    run = ctx.results[ctx.experiment.visualise][0]
    png = run_vis(run['config'], run['checkpoint'], vis_input(ctx),
                  osp.join(ctx.args.work_dir, 'vis'), ctx.args)
    copy_atomic(png, osp.join(ctx.args.images, ctx.images['vis']))


# --------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run a small GloRe experiment and write its report')
    parser.add_argument('experiment', choices=sorted(EXPERIMENTS))
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        help='seeds (default: those of experiments.yml, 0 1 2)')
    parser.add_argument(
        '--variants',
        nargs='+',
        help='train only these variants (default: all)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='a smoke test: tiny subset, a few iterations')
    parser.add_argument(
        '--work-dir',
        help='where the runs go (default: work_dirs/experiments/EXPERIMENT)')
    parser.add_argument(
        '--data-root', help='data folder (default: the configs\' data_root)')
    parser.add_argument(
        '--update-docs',
        action='store_true',
        help=f'write the report into {osp.relpath(DOC, REPO)} and its plots '
        f'under {osp.relpath(IMAGES, REPO)}')
    parser.add_argument(
        '--doc',
        help='markdown report (default: WORK_DIR/experiments.md, or the '
        'docs with --update-docs)')
    parser.add_argument(
        '--images',
        help='folder of the plots (default: WORK_DIR/images, or the docs\' '
        'with --update-docs)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='intra-op threads per training run (default: 1)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='training runs at a time, each a process of --threads '
        'threads (default: 1)')
    parser.add_argument(
        '--force', action='store_true', help='retrain finished runs')
    args = parser.parse_args(argv)
    for name in ('jobs', 'threads'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be at least 1, but got '
                         f'{getattr(args, name)}')
    exp = EXPERIMENTS[args.experiment]
    known = [v.key for v in exp.variants]
    unknown = sorted(set(args.variants or []) - set(known))
    if unknown:
        parser.error(f'unknown --variants {unknown}; allowed: {known}')
    if args.seeds is None:
        args.seeds = list(exp.seeds)
    if args.work_dir is None:
        args.work_dir = osp.join(
            REPO, 'work_dirs', 'experiments',
            args.experiment + ('_quick' if args.quick else ''))
    args.work_dir = osp.abspath(args.work_dir)
    if args.doc is None:
        args.doc = DOC if args.update_docs else osp.join(
            args.work_dir, 'experiments.md')
    if args.images is None:
        args.images = IMAGES if args.update_docs else osp.join(
            args.work_dir, 'images')
    if args.data_root:
        args.data_root = osp.abspath(args.data_root)
    args.load_at_start = ', '.join(f'{x:.1f}' for x in os.getloadavg())
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    exp = EXPERIMENTS[args.experiment]
    if args.variants:
        exp = exp._replace(
            variants=tuple(v for v in exp.variants if v.key in args.variants))
    code = EXPERIMENT_CODE[exp.name]
    code.prepare(data_root_of(exp, args))
    start = time.perf_counter()
    results = train_all(exp, args)
    predict_seconds = None
    if exp.predictions:
        seconds = parallel_map(
            lambda run: run_predictions(exp, run[0], run[1], args),
            [(variant, result) for variant in exp.variants
             for result in results[variant.key]], args.jobs)
        if None not in seconds:
            predict_seconds = sum(seconds)
    images = {
        what: f'experiments_{exp.name}_{what}.png'
        for what in ('loss', 'curves')
    }
    if exp.predictions:
        images['distance'] = f'experiments_{exp.name}_distance.png'
    ctx = Context(exp, args, results, images,
                  run_config(exp, exp.variants[0], args),
                  sum(r['seconds'] for runs in results.values() for r in runs),
                  predict_seconds)
    plot_losses(
        ctx,
        osp.join(args.images, images['loss']),
        zoom=10 if args.quick else 60)
    if exp.visualise in results:
        images['vis'] = f'vis_{exp.name}_projection.png'
        visualise(ctx, code.vis_input)
    update_doc(args.doc, exp.name, code.report(ctx))
    print(f'[{exp.name}] report written to {args.doc} in '
          f'{time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
