# Copyright (c) glore_mm contributors. All rights reserved.
"""Run one of the small GloRe experiments and write its report.

Each experiment trains a few variants of a model with three seeds through
``tools/train.py``, reads the metrics and losses that MMEngine logs
(``vis_data/scalars.json``), and writes its section of
``docs/experiments.md`` (tables, the exact settings, the machine and the
timings) and its plots under ``docs/images/``, each file replaced
atomically. Nothing in the report is typed by hand.

Experiments:
    fashion_mnist  ResNet_CIFAR-18 on Fashion-MNIST: plain, one GloRe unit
                   after res3, one after res4, and the res4 unit without
                   its zero-initialised gate; top-1 on the 10k test set.
    brain_mri      FCN-R18-D8 with mmseg's FCNHead vs the GloRe head on the
                   brain MRI slices; val mIoU; the projection maps of the
                   trained GloRe head on a val slice.

Runs already finished in the work dir (``result.json`` present) are reused,
so an interrupted experiment continues where it stopped; ``--force``
retrains everything. Each training run is one process with
``--threads`` (default 1) intra-op threads: on a 2-core machine shared
with other jobs one thread per run is much faster than two.

Examples:
    python tools/experiments/run.py fashion_mnist
    python tools/experiments/run.py brain_mri
    python tools/experiments/run.py fashion_mnist --quick --doc /tmp/e.md \\
        --images /tmp/images --work-dir /tmp/exp
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
import tempfile
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
import fashion_mnist as fm_converter  # noqa: E402

DOC = osp.join(REPO, 'docs', 'experiments.md')
IMAGES = osp.join(REPO, 'docs', 'images')
SEEDS = (0, 1, 2)
#: Iterations of the mean early and late training loss in the tables.
LOSS_WINDOW = 20


class Variant(NamedTuple):
    """One model of an experiment, trained once per seed."""
    key: str
    label: str
    config: str
    options: Sequence[str] = ()


class Experiment(NamedTuple):
    """What to train, how to shrink it for ``--quick``, what to report."""
    name: str
    title: str
    variants: Sequence[Variant]
    metric: str  # key in scalars.json
    metric_label: str
    options: Sequence[str]  # --cfg-options of every run
    quick_options: Sequence[str]
    data_option: Sequence[str]  # cfg-options keys set to --data-root
    data_root: str  # default data folder, relative to the repository
    prepare: Callable[[str], None]
    report: Callable[['Context'], List[str]]


class Context(NamedTuple):
    """Everything a report needs."""
    experiment: Experiment
    args: argparse.Namespace
    results: Dict[str, List[Dict]]  # variant key -> one result per seed
    images: Dict[str, str]  # what -> image file name under --images
    extra: Dict


# --------------------------------------------------------------------------
# data


def prepare_fashion_mnist(data_root: str) -> None:
    """Make sure ``data_root`` holds the four uncompressed IDX files."""
    names = list(fm_converter.FILES)
    if all(osp.isfile(osp.join(data_root, name)) for name in names):
        return
    if fm_converter.missing_sources(fm_converter.DEBIAN_DIR):
        raise SystemExit(
            f'Fashion-MNIST is missing: {data_root} lacks {names} and '
            f'{fm_converter.DEBIAN_DIR} lacks the gzipped files. Install the '
            f'Debian package {fm_converter.DEBIAN_PACKAGE}:\n'
            f'    apt-get update && apt-get install -y '
            f'{fm_converter.DEBIAN_PACKAGE}\n'
            f'then rerun (it runs tools/dataset_converters/fashion_mnist.py '
            f'{data_root}).')
    print(f'Preparing {data_root} from {fm_converter.DEBIAN_DIR}')
    fm_converter.convert(fm_converter.DEBIAN_DIR, data_root, overwrite=True)


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


# --------------------------------------------------------------------------
# running


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
        options += [f'{key}={args.data_root}' for key in exp.data_option]
    return options


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
    start = time.perf_counter()
    with open(osp.join(work_dir, 'train.log'), 'w') as log:
        code = subprocess.call(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f'training failed (exit {code}): {" ".join(cmd)}\n'
                         f'see {work_dir}/train.log')
    result = summarise_run(work_dir, exp.metric, seconds)
    result.update(seed=seed, options=options, config=variant.config)
    if previous is not None:
        # --force retrained a finished run: did it reproduce it?
        result['rerun_of'] = dict(
            metric=previous['metric'],
            same_metric=previous['metric'] == result['metric'],
            same_loss=previous['loss'] == result['loss'],
            max_loss_diff=float(
                np.abs(np.subtract(previous['loss'], result['loss'])).max())
            if len(previous['loss']) == len(result['loss']) else None)
    write_atomic(result_file, json.dumps(result))
    print(
        f'[{exp.name}] {variant.key} seed {seed}: {exp.metric_label} '
        f'{result["metric"]:.2f} in {seconds:.0f} s',
        flush=True)
    return result


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


# --------------------------------------------------------------------------
# files


def write_atomic(path: str, data, mode: str = 'w') -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.')
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def save_figure(fig, path: str) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100, bbox_inches='tight')
    write_atomic(path, buf.getvalue(), mode='wb')


def copy_atomic(src: str, dst: str) -> None:
    with open(src, 'rb') as f:
        write_atomic(dst, f.read(), mode='wb')


DOC_HEAD = """# Small experiments on real data

Evidence that fits a 2-core CPU: each experiment is one command, trains a few
small models with three seeds, and writes its own section below (tables,
plots under `images/`, settings, machine and timings) from the logged
numbers. Nothing between the `generated` markers is edited by hand; rerun
the command to regenerate it.

"""


def markers(name: str) -> tuple:
    return (f'<!-- generated by tools/experiments/run.py {name}: begin -->',
            f'<!-- generated by tools/experiments/run.py {name}: end -->')


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
    write_atomic(path, text)


# --------------------------------------------------------------------------
# reporting


def machine_lines(args: argparse.Namespace) -> List[str]:
    import torch
    cpu = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            names = [
                line.split(':', 1)[1].strip() for line in f
                if line.startswith('model name')
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    versions = []
    for package in ('mmengine', 'mmcv', 'mmpretrain', 'mmseg'):
        try:
            versions.append(f'{package} {__import__(package).__version__}')
        except ImportError:
            pass
    return [
        f'- CPU: {cpu}, {os.cpu_count()} logical cores '
        f'({len(os.sched_getaffinity(0))} usable); '
        f'{args.threads} thread(s) per training run, runs one after '
        f'another; load average {args.load_at_start} when the experiment '
        f'started (the cores were shared with other jobs)',
        f'- Python {platform.python_version()}, torch {torch.__version__}, ' +
        ', '.join(versions),
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
        mean = curves.mean(0)
        for ax, keep in ((axes[0], steps > 0), (axes[1], steps <= zoom)):
            line, = ax.plot(steps[keep], mean[keep], label=variant.label)
            ax.fill_between(
                steps[keep],
                curves.min(0)[keep],
                curves.max(0)[keep],
                alpha=0.2,
                color=line.get_color())
    axes[0].set_title('training loss (mean over seeds, band: min-max)')
    axes[1].set_title(f'first {zoom} iterations')
    for ax in axes:
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss (logged mean)')
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    save_figure(fig, path)
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
    command = f'python tools/experiments/run.py {exp.name}'
    if args.quick:
        command += ' --quick'
    lines = [
        f'Command: `{command}` (from the repository root; '
        f'{len(exp.variants)} variants x {len(args.seeds)} seeds, total '
        f'{ctx.extra["total_seconds"] / 60:.1f} min). Each run is:', '', '```',
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
# Fashion-MNIST

FM_CONFIGS = 'configs/mmpretrain/resnet18-cifar_fashion-mnist'
FASHION_MNIST = Experiment(
    name='fashion_mnist',
    title='Classification: Fashion-MNIST',
    variants=(
        Variant('plain', 'ResNet_CIFAR-18', f'{FM_CONFIGS}.py'),
        Variant('res3x1', '+1 GloRe after res3 (`res3x1`)',
                f'{FM_CONFIGS}_glore-res3x1.py'),
        Variant('res4x1', '+1 GloRe after res4 (`res4x1`)',
                f'{FM_CONFIGS}_glore-res4x1.py'),
        Variant('res4x1_nozeroinit', '+1 GloRe after res4, no zero-init gate',
                f'{FM_CONFIGS}_glore-res4x1-nozeroinit.py'),
    ),
    metric='accuracy/top1',
    metric_label='top-1 (%)',
    options=(),
    quick_options=('train_dataloader.dataset.indices=96',
                   'val_dataloader.dataset.indices=100',
                   'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                   'param_scheduler.T_max=1', 'param_scheduler.end=1',
                   'default_hooks.checkpoint.interval=1',
                   'default_hooks.logger.interval=1'),
    data_option=('train_dataloader.dataset.data_root',
                 'val_dataloader.dataset.data_root',
                 'test_dataloader.dataset.data_root'),
    data_root='data/fashion_mnist',
    prepare=prepare_fashion_mnist,
    report=lambda ctx: report_fashion_mnist(ctx))


def read_idx_images(path: str) -> np.ndarray:
    with open(path, 'rb') as f:
        data = f.read()
    count, rows, cols = np.frombuffer(data[4:16], dtype='>u4')
    return np.frombuffer(
        data, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def unit_output_scale(config: str, checkpoint: Optional[str], seed: int,
                      images: np.ndarray) -> float:
    """``||unit(x) - x|| / ||x||`` of the model's GloRe unit on ``images``.

    Without a checkpoint: a model freshly initialised (after
    ``set_random_seed(seed)``) in training mode, as the first training step
    sees it. With one: the trained model in eval mode.
    """
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import load_checkpoint, set_random_seed
    cfg = Config.fromfile(osp.join(REPO, config))
    init_default_scope(cfg.default_scope)
    set_random_seed(seed)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
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


def report_fashion_mnist(ctx: Context) -> List[str]:
    args = ctx.args
    data_root = args.data_root or osp.join(REPO, 'data', 'fashion_mnist')
    test_images = read_idx_images(
        osp.join(data_root, 't10k-images-idx3-ubyte'))[:256]
    scale_rows = []
    for variant in ctx.experiment.variants:
        if not variant.key.startswith('res4x1'):
            continue
        runs = ctx.results[variant.key]
        init = [
            unit_output_scale(variant.config, None, r['seed'], test_images)
            for r in runs
        ]
        trained = [
            unit_output_scale(variant.config, r['checkpoint'], r['seed'],
                              test_images) for r in runs
        ]
        scale_rows.append(f'| {variant.label} | {mean_std(init, 3)} | '
                          f'{mean_std(trained, 3)} |')
    num_train = '96' if args.quick else '6,000'
    lines = [
        f'## {FASHION_MNIST.title}', '',
        'mmpretrain\'s `ResNet_CIFAR` (3x3 stem, no max-pool) at depth 18 '
        'with 16 base channels (widths 16-32-64-128 on 28, 14, 7 and 4 pixel '
        'maps), one input channel, trained from scratch on the first '
        f'{num_train} of the 60,000 training images (the same images for '
        'every run) for '
        f'{"1 epoch" if args.quick else "2 epochs"}, batch 32, SGD lr 0.05 '
        'with a '
        'cosine decay per iteration; top-1 on the '
        f'{"first 100" if args.quick else "full 10,000"} test images. '
        'A GloRe unit goes after the last block of res3 (`layer2`, 32 '
        'channels: 16 states, 8 nodes on 14x14) or of res4 (`layer3`, 64 '
        'channels: 32 states, 16 nodes on 7x7). Data: Debian\'s '
        '`dataset-fashion-mnist`, prepared by '
        '`tools/dataset_converters/fashion_mnist.py`.', '',
        *results_table(ctx), '', *comparison_lines(ctx, 'plain'), '',
        'Std is the sample standard deviation over the seeds; the losses '
        'are the logged means (every '
        f'{1 if args.quick else 5} iterations) over the first and last '
        f'{LOSS_WINDOW} iterations, mean ± std over the seeds.', '',
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
        lines += [
            '### Projection maps', '',
            'The 8 nodes of the trained res3 unit (seed '
            f'{args.seeds[0]}) on test image 0, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    lines += [
        *rerun_lines(ctx), '### Settings', '', *settings_lines(ctx), '',
        '### Machine', '', *machine_lines(args)
    ]
    return lines


def vis_fashion_mnist(ctx: Context) -> None:
    import cv2
    data_root = ctx.args.data_root or osp.join(REPO, 'data', 'fashion_mnist')
    image = read_idx_images(osp.join(data_root, 't10k-images-idx3-ubyte'))[0]
    inputs = osp.join(ctx.args.work_dir, 'inputs')
    os.makedirs(inputs, exist_ok=True)
    path = osp.join(inputs, 'fashion_mnist_t10k_00000.png')
    cv2.imwrite(path, image)
    run = ctx.results['res3x1'][0]
    png = run_vis(run['config'], run['checkpoint'], path,
                  osp.join(ctx.args.work_dir, 'vis'), ctx.args)
    copy_atomic(png, osp.join(ctx.args.images, ctx.images['vis']))


# --------------------------------------------------------------------------
# brain MRI

SEG_ITERS = 1000  # as in the configs
BRAIN_VAL_SLICE = 'mni152_z079.png'
BRAIN_MRI = Experiment(
    name='brain_mri',
    title='Segmentation: brain MRI slices',
    variants=(
        Variant('fcn', 'FCN (FCNHead)',
                'configs/mmseg/fcn_r18-d8_1xb8-1k_brain-mri-128x128.py'),
        Variant('glore', 'FCN + GloRe head (GloReHead)',
                'configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py'),
    ),
    metric='mIoU',
    metric_label='val mIoU (%)',
    options=('default_hooks.logger.interval=10', ),
    quick_options=('train_cfg.max_iters=4', 'train_cfg.val_interval=4',
                   'param_scheduler.0.end=4',
                   'default_hooks.checkpoint.interval=4',
                   'default_hooks.logger.interval=1',
                   'train_dataloader.batch_size=2',
                   'train_dataloader.num_workers=0',
                   'train_dataloader.persistent_workers=False',
                   'val_dataloader.num_workers=0',
                   'val_dataloader.persistent_workers=False'),
    data_option=('train_dataloader.dataset.data_root',
                 'val_dataloader.dataset.data_root',
                 'test_dataloader.dataset.data_root'),
    data_root='data/brain_mri',
    prepare=prepare_brain_mri,
    report=lambda ctx: report_brain_mri(ctx))


def report_brain_mri(ctx: Context) -> List[str]:
    args = ctx.args
    iters = 4 if args.quick else SEG_ITERS
    schedule = '' if args.quick else ', the schedule of the configs'
    data_root = args.data_root or osp.join(REPO, BRAIN_MRI.data_root)
    num = {
        split: len(os.listdir(osp.join(data_root, 'img_dir', split)))
        for split in ('train', 'val')
    }
    lines = [
        f'## {BRAIN_MRI.title}', '',
        'FCN-R18-D8 (ResNetV1c-18 with 16 base channels, trained from '
        'scratch) on the 128x128 axial slices of the MNI ICBM152 template '
        f'(3 classes: background, grey matter, white matter; {num["train"]} '
        f'train / {num["val"]} val slices, '
        '`tools/dataset_converters/brain_mri.py`), with mmseg\'s `FCNHead` '
        'or with the GloRe head (`GloReHead`: conv, GloRe unit with 32 '
        f'states and 16 nodes, conv). Trained for {iters} iterations of '
        f'{2 if args.quick else 8} crops (SGD lr 0.05, poly decay{schedule}'
        f'); mIoU on the '
        f'{num["val"]} val slices.', '', *results_table(ctx), '',
        *comparison_lines(ctx, 'fcn'), '',
        'Std is the sample standard deviation over the seeds; losses are '
        'the total training loss (decode + 0.4 auxiliary), logged as means '
        f'every {1 if args.quick else 10} iterations.', '',
        f'![training loss]({image_link(ctx, "loss")})', ''
    ]
    if 'vis' in ctx.images:
        lines += [
            '### Projection maps', '',
            f'The 16 nodes of the trained GloRe head (seed {args.seeds[0]}) '
            f'on the held-out val slice `{BRAIN_VAL_SLICE}`, drawn by '
            '`tools/visualization/vis_projection.py` (the 4 nodes with the '
            'most varied maps highlighted, contours where their normalised '
            'weight is at least 0.5):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    return lines + [
        *rerun_lines(ctx), '### Settings', '', *settings_lines(ctx), '',
        '### Machine', '', *machine_lines(args)
    ]


def vis_brain_mri(ctx: Context) -> None:
    data_root = ctx.args.data_root or osp.join(REPO, 'data', 'brain_mri')
    val_dir = osp.join(data_root, 'img_dir', 'val')
    image = osp.join(val_dir, BRAIN_VAL_SLICE)
    if not osp.isfile(image):
        image = osp.join(val_dir, sorted(os.listdir(val_dir))[0])
    run = ctx.results['glore'][0]
    png = run_vis(run['config'], run['checkpoint'], image,
                  osp.join(ctx.args.work_dir, 'vis'), ctx.args)
    copy_atomic(png, osp.join(ctx.args.images, ctx.images['vis']))


EXPERIMENTS = {exp.name: exp for exp in (FASHION_MNIST, BRAIN_MRI)}
#: experiment -> (the variant whose seed-0 unit is drawn, how)
VISUALISE = {
    'fashion_mnist': ('res3x1', vis_fashion_mnist),
    'brain_mri': ('glore', vis_brain_mri)
}

# --------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run a small GloRe experiment and write its report')
    parser.add_argument('experiment', choices=sorted(EXPERIMENTS))
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=list(SEEDS),
        help='seeds (default: 0 1 2)')
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
        '--doc', default=DOC, help='markdown report (default: %(default)s)')
    parser.add_argument(
        '--images',
        default=IMAGES,
        help='folder of the plots (default: %(default)s)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='intra-op threads per training run (default: 1)')
    parser.add_argument(
        '--force', action='store_true', help='retrain finished runs')
    args = parser.parse_args(argv)
    exp = EXPERIMENTS[args.experiment]
    known = [v.key for v in exp.variants]
    unknown = sorted(set(args.variants or []) - set(known))
    if unknown:
        parser.error(f'unknown --variants {unknown}; allowed: {known}')
    if args.work_dir is None:
        args.work_dir = osp.join(
            REPO, 'work_dirs', 'experiments',
            args.experiment + ('_quick' if args.quick else ''))
    args.work_dir = osp.abspath(args.work_dir)
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
    exp.prepare(args.data_root or osp.join(REPO, exp.data_root))
    start = time.perf_counter()
    results = {
        v.key: [run_variant(exp, v, seed, args) for seed in args.seeds]
        for v in exp.variants
    }
    images = dict(loss=f'experiments_{exp.name}_loss.png')
    ctx = Context(
        exp, args, results, images,
        dict(
            total_seconds=sum(r['seconds'] for runs in results.values()
                              for r in runs)))
    plot_losses(
        ctx,
        osp.join(args.images, images['loss']),
        zoom=10 if args.quick else 60)
    vis_variant, visualise = VISUALISE[exp.name]
    if vis_variant in results:
        images['vis'] = f'vis_{exp.name}_projection.png'
        visualise(ctx)
    update_doc(args.doc, exp.name, exp.report(ctx))
    print(f'[{exp.name}] report written to {args.doc} in '
          f'{time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
