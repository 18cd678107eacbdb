# Copyright (c) glore_mm contributors. All rights reserved.
"""Run one of the small GloRe experiments and write its report.

The experiments are data: ``experiments.yml`` (next to this file) names
each one's configs, variants, seeds and options, and each has a module of
its own in this folder (its name, or the entry's ``module``) with what
differs between experiments: ``prepare``, ``input_shape``, ``vis_input``
and ``report``. This runner trains the variants once per seed through
``tools/train.py``, reads the metrics and losses that MMEngine logs
(``vis_data/scalars.json``), and writes the experiment's section of a
markdown report (tables, the settings, the machine and the timings) and its
plots, each file replaced atomically. Nothing in the report is typed by
hand: the numbers come from the logs and the settings it quotes (epochs,
batch, lr, schedule, iterations, sizes) from the configs with the runs'
``--cfg-options`` applied.

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
    fashion_mnist_dense
                   FCN-R18-D8 on canvases of two Fashion-MNIST items whose
                   pixels are labelled same or different by the other
                   item's class: mmseg's FCNHead, NLHead, GCHead, CCHead
                   and the GloRe head; mIoU, per-class IoU, IoU against
                   distance, cost, the projection maps of the GloRe head.
    fashion_mnist_clips
                   I3D-18 (plain, + GloRe3d, + mmaction's non-local block)
                   and C2D-18 (plain, + GloRe3d with a zero gate and with
                   the gate starting at 1, + the non-local block) on clips
                   labelled by whether the first and the last item are
                   alike; top-1, curves, the frames each plain stage sees,
                   cost.
    fashion_mnist_clips_noinflate
                   The same clips made harder for the I3D: its blocks not
                   inflated (plain, + GloRe3d with either gate start, + the
                   non-local block).

Runs already finished in the work dir (``result.json`` present, with the
same config file and options) are reused, so an interrupted experiment
continues where it stopped and a rerun only regenerates the report;
``--force`` retrains everything. Each training run
is one process with ``--threads`` (default 1) intra-op threads: on a 2-core
machine shared with other jobs one thread per run is much faster than two.

Examples:
    python .dev_scripts/experiments/run.py fashion_mnist
    python .dev_scripts/experiments/run.py brain_mri --update-docs
    python .dev_scripts/experiments/run.py fashion_mnist_pairs
    python .dev_scripts/experiments/run.py fashion_mnist_dense --jobs 2
    python .dev_scripts/experiments/run.py fashion_mnist --quick \\
        --data-root /tmp/fashion_mnist --work-dir /tmp/exp
"""
import argparse
import importlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from threading import Lock
from types import ModuleType
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import report
from experiment import (HERE, REPO, Context, Experiment, Variant, data_root_of,
                        load_experiments, metric_values, predictions_path,
                        read_scalars, run_config, run_dir, run_options)

from glore_mm.analysis import analyse_config
from glore_mm.analysis.report import machine_info
from glore_mm.utils import atomic_write

DOC = osp.join(REPO, 'docs', 'experiments.md')
IMAGES = osp.join(REPO, 'docs', 'images')
#: What the module of an experiment defines.
MODULE_FUNCTIONS = ('prepare', 'input_shape', 'vis_input', 'report')
#: The runner's own modules, which no experiment's module may be.
RUNNER_MODULES = ('run', 'experiment', 'report')

#: Held while a line is written: the runs report from several threads.
_SAY_LOCK = Lock()


def say(line: str) -> None:
    """Print ``line`` whole: runs going in several threads
    (``--jobs``) would otherwise interleave the text of one line with the
    newline of another."""
    with _SAY_LOCK:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def experiment_module(exp: Experiment) -> ModuleType:
    """The module of this folder that holds the experiment's code.

    Raises:
        SystemExit: If its name is no module name or one of
            :data:`RUNNER_MODULES`, there is no such module, or it lacks
            one of :data:`MODULE_FUNCTIONS`.
    """
    name = exp.module_name
    if not name.isidentifier() or name in RUNNER_MODULES:
        raise SystemExit(f'experiment {exp.name!r}: its module must be a '
                         'Python module name other than '
                         f'{list(RUNNER_MODULES)}, but got {name!r}')
    if not osp.isfile(osp.join(HERE, f'{name}.py')):
        raise SystemExit(f'experiment {exp.name!r} needs the module '
                         f'{osp.join(HERE, name)}.py (its name, or the '
                         "entry's module key in experiments.yml)")
    module = importlib.import_module(name)
    missing = [
        f for f in MODULE_FUNCTIONS if not callable(getattr(module, f, None))
    ]
    if missing:
        raise SystemExit(f'{module.__file__} must define {missing} for the '
                         f'experiment {exp.name!r}')
    return module


# --------------------------------------------------------------------------
# training


def train_command(config: str, work_dir: str,
                  options: Sequence[str]) -> List[str]:
    return [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        osp.join(REPO, config), '--work-dir', work_dir, '--cfg-options',
        *options
    ]


def thread_env(args: argparse.Namespace) -> Dict[str, str]:
    """The environment of a training or test process: ``--threads``."""
    return dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        MKL_NUM_THREADS=str(args.threads))


def summarise_run(work_dir: str, exp: Experiment, seconds: float) -> Dict:
    """Loss curve, final metric and checkpoint of a finished run."""
    records = read_scalars(work_dir)
    train = [r for r in records if 'loss' in r and 'lr' in r]
    _, values = metric_values(exp, records)
    if not train or not values:
        raise RuntimeError(f'{work_dir}: no training loss or no '
                           f'{exp.metric!r} in scalars.json')
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    return dict(
        steps=[r['step'] for r in train],
        loss=[r['loss'] for r in train],
        metric=values[-1],
        seconds=seconds,
        checkpoint=checkpoint)


def rerun_record(previous: Dict, result: Dict) -> Dict:
    """Whether a retrained run (``--force``) reproduced its first one."""
    same_length = len(previous['loss']) == len(result['loss'])
    return dict(
        metric=previous['metric'],
        same_metric=previous['metric'] == result['metric'],
        same_loss=previous['loss'] == result['loss'],
        max_loss_diff=float(
            np.abs(np.subtract(previous['loss'], result['loss'])).max())
        if same_length else None)


def run_variant(exp: Experiment, variant: Variant, seed: int,
                args: argparse.Namespace) -> Dict:
    """Train one variant with one seed (or reuse a finished run)."""
    work_dir = run_dir(args, variant, seed)
    result_file = osp.join(work_dir, 'result.json')
    options = run_options(exp, variant, seed, args)
    previous = None
    if osp.isfile(result_file):
        with open(result_file) as f:
            previous = json.load(f)
        if (previous.get('options') != options
                or previous.get('config') != variant.config):
            previous = None
        elif not args.force:
            say(f'[{exp.name}] {variant.key} seed {seed}: reusing '
                f'{result_file}')
            return previous
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    cmd = train_command(variant.config, work_dir, options)
    say(f'[{exp.name}] {variant.key} seed {seed}: training, log in '
        f'{work_dir}/train.log')
    load = os.getloadavg()[0]
    started = time.time()
    start = time.perf_counter()
    with open(osp.join(work_dir, 'train.log'), 'w') as log:
        code = subprocess.call(
            cmd,
            cwd=REPO,
            env=thread_env(args),
            stdout=log,
            stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f'training failed (exit {code}): {" ".join(cmd)}\n'
                         f'see {work_dir}/train.log')
    result = summarise_run(work_dir, exp, seconds)
    result.update(
        seed=seed,
        options=options,
        config=variant.config,
        started=started,
        ended=started + seconds,
        load_at_start=load)
    if previous is not None:
        result['rerun_of'] = rerun_record(previous, result)
    atomic_write(json.dumps(result), result_file)
    say(f'[{exp.name}] {variant.key} seed {seed}: {exp.metric_label} '
        f'{result["metric"]:.2f} in {seconds:.0f} s')
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


def run_order(exp: Experiment, args: argparse.Namespace,
              input_shape: Callable) -> List[Tuple[Variant, int]]:
    """Every (variant, seed) run, the costliest variants first.

    With several runs at a time (``--jobs``), starting the long runs first
    leaves the short ones to fill the cores at the end. The cost is the
    FLOPs of one input of the variant's model (``input_shape(cfg,
    data_root)`` of the experiment's module).
    """
    variants = list(exp.variants)
    if args.jobs > 1:
        flops = {}
        for variant in variants:
            cfg = run_config(exp, variant, args)
            shape = input_shape(cfg, data_root_of(exp, args))
            flops[variant.key] = analyse_config(cfg, shape)['flops']
        variants.sort(key=lambda v: -flops[v.key])
    return [(variant, seed) for variant in variants for seed in args.seeds]


def train_all(exp: Experiment, args: argparse.Namespace,
              input_shape: Callable) -> Dict[str, List[Dict]]:
    """Train every variant with every seed, ``args.jobs`` runs at a time.

    Returns:
        dict[str, list[dict]]: Variant key -> its results, in seed order.
    """
    runs = run_order(exp, args, input_shape)
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


# --------------------------------------------------------------------------
# test predictions and projection maps


def run_predictions(exp: Experiment, variant: Variant, result: Dict,
                    args: argparse.Namespace) -> Optional[float]:
    """Keep the test predictions of a trained run (``tools/test.py --out``).

    Reused while newer than the run's ``result.json``; a folder of
    predictions only once its test finished (its seconds recorded), since
    the test writes it image by image.

    Returns:
        float | None: The seconds ``tools/test.py`` took (recorded beside
        the predictions when they are reused); None for predictions kept
        without that record.
    """
    work_dir = run_dir(args, variant, result['seed'])
    out = predictions_path(exp, args, variant, result['seed'])
    seconds_file = osp.splitext(out)[0] + '_seconds.json'
    if osp.exists(out) and osp.getmtime(out) >= osp.getmtime(
            osp.join(work_dir, 'result.json')):
        if osp.isfile(seconds_file):
            with open(seconds_file) as f:
                return json.load(f)['seconds']
        if not osp.isdir(out):
            return None
    if osp.isdir(out):
        shutil.rmtree(out)
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'),
        osp.join(REPO, variant.config), result['checkpoint'], '--out', out,
        '--work-dir',
        osp.join(work_dir, 'test'), '--cfg-options', *result['options']
    ]
    say(f'[{exp.name}] {variant.key} seed {result["seed"]}: test '
        'predictions')
    start = time.perf_counter()
    with open(osp.join(work_dir, 'test.log'), 'w') as log:
        code = subprocess.call(
            cmd,
            cwd=REPO,
            env=thread_env(args),
            stdout=log,
            stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0 or not osp.exists(out):
        raise SystemExit(f'testing failed (exit {code}): {" ".join(cmd)}\n'
                         f'see {work_dir}/test.log')
    atomic_write(json.dumps(dict(seconds=seconds)), seconds_file)
    return seconds


def run_vis(config: str,
            checkpoint: str,
            image: str,
            out_dir: str,
            args: argparse.Namespace,
            nodes: int = 4) -> str:
    """Run tools/visualization/vis_projection.py; return its one PNG."""
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'visualization', 'vis_projection.py'),
        osp.join(REPO, config), checkpoint, image, '--out', out_dir, '--nodes',
        str(nodes)
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f'{" ".join(cmd)} failed:\n{out.stderr[-3000:]}')
    pngs = [line for line in out.stdout.splitlines() if line.endswith('.png')]
    if len(pngs) != 1:
        raise SystemExit(f'expected one PNG from {" ".join(cmd)}, got {pngs}')
    return pngs[0]


def visualise(ctx: Context, vis_input: Callable[[Context], str]) -> None:
    """Draw the projection of the seed-0 unit of the visualised variant."""
    run = ctx.results[ctx.experiment.visualise][0]
    png = run_vis(run['config'], run['checkpoint'], vis_input(ctx),
                  osp.join(ctx.args.work_dir, 'vis'), ctx.args)
    with open(png, 'rb') as f:
        atomic_write(f.read(), osp.join(ctx.args.images, ctx.images['vis']))


# --------------------------------------------------------------------------


def parse_args(experiments: Dict[str, Experiment],
               argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run a small GloRe experiment and write its report')
    parser.add_argument('experiment', choices=sorted(experiments))
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
    exp = experiments[args.experiment]
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
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    experiments = load_experiments()
    args = parse_args(experiments, argv)
    machine = machine_info(threads=args.threads, packages=report.PACKAGES)
    exp = experiments[args.experiment]
    if args.variants:
        exp = exp._replace(
            variants=tuple(v for v in exp.variants if v.key in args.variants))
    code = experiment_module(exp)
    code.prepare(data_root_of(exp, args))
    start = time.perf_counter()
    results = train_all(exp, args, code.input_shape)
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
                  machine, predict_seconds)
    report.plot_losses(
        ctx,
        osp.join(args.images, images['loss']),
        zoom=10 if args.quick else 60)
    if exp.visualise in results:
        images['vis'] = f'vis_{exp.name}_projection.png'
        visualise(ctx, code.vis_input)
    report.update_doc(args.doc, exp.name, code.report(ctx))
    print(f'[{exp.name}] report written to {args.doc} in '
          f'{time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
