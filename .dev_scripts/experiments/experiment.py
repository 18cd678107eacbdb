# Copyright (c) glore_mm contributors. All rights reserved.
"""An experiment as data, and the files and configs of its runs.

What the runner (``run.py``), the shared report lines (``report.py``) and
the experiment modules (one per entry of ``experiments.yml``) share: the
entries of ``experiments.yml``, the ``--cfg-options`` and the config of a
run, where a run keeps its files, what MMEngine logged, and the
:class:`Context` a report is written from.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import yaml
from mmengine.config import Config

from glore_mm.datasets import fashion_mnist
from glore_mm.engine.arguments import build_train_parser
from glore_mm.engine.runner_setup import config_from_args

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
#: The runner as the report names it, relative to the repository.
SCRIPT = osp.relpath(osp.join(HERE, 'run.py'), REPO).replace(os.sep, '/')
EXPERIMENTS_FILE = osp.join(HERE, 'experiments.yml')

#: ``predictions`` of an experiment -> what ``tools/test.py --out`` keeps
#: in each run's work dir: a pickle of the predicted data samples, or a
#: folder with one prediction PNG per test image (mmseg).
PREDICTION_OUTPUTS = {True: 'predictions.pkl', 'images': 'predictions'}


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
    visualise: Optional[str]
    vis_image: Optional[str] = None
    predictions: Union[bool, str] = False
    module: Optional[str] = None
    metric_scale: float = 1

    @property
    def module_name(self) -> str:
        """The module of this folder that holds the experiment's code."""
        return self.module or self.name

    @property
    def predictions_name(self) -> str:
        """What ``tools/test.py --out`` writes in a run's work dir.

        Raises:
            ValueError: If ``predictions`` is not one of
                :data:`PREDICTION_OUTPUTS`.
        """
        if self.predictions not in PREDICTION_OUTPUTS:
            raise ValueError(f'experiment {self.name!r}: predictions must be '
                             f'one of {list(PREDICTION_OUTPUTS)}, but got '
                             f'{self.predictions!r}')
        return PREDICTION_OUTPUTS[self.predictions]


def load_experiments(path: str = EXPERIMENTS_FILE) -> Dict[str, Experiment]:
    """Read the experiments of ``path`` by name.

    Raises:
        ValueError: If an entry has a key :class:`Experiment` does not
            know, or lacks one it needs.
    """
    with open(path) as f:
        data = yaml.safe_load(f)
    experiments = {}
    for name, entry in data.items():
        unknown = sorted(set(entry) - set(Experiment._fields))
        if unknown:
            raise ValueError(f'{path}: experiment {name!r} has unknown keys '
                             f'{unknown}; allowed: {list(Experiment._fields)}')
        if not entry.get('variants'):
            raise ValueError(f'{path}: experiment {name!r} has no variants')
        variants = tuple(
            Variant(**dict(v, options=tuple(v.get('options', ()))))
            for v in entry.pop('variants'))
        try:
            experiments[name] = Experiment(
                name=name,
                variants=variants,
                **{
                    key: tuple(value) if isinstance(value, list) else value
                    for key, value in entry.items()
                })
        except TypeError as error:
            raise ValueError(f'{path}: experiment {name!r}: {error}') from None
    return experiments


def declared_variants(exp: Experiment) -> Sequence[Variant]:
    """Every variant of ``exp`` in ``experiments.yml``, also those that
    ``--variants`` left out of the runs."""
    return load_experiments()[exp.name].variants


class Context(NamedTuple):
    """Everything a report needs."""
    experiment: Experiment
    args: argparse.Namespace
    results: Dict[str, List[Dict]]  # variant key -> one result per seed
    images: Dict[str, str]  # what -> image file name under --images
    cfg: Config  # the first variant's config as its runs saw it
    total_seconds: float
    # glore_mm.analysis.report.machine_info when the experiment started
    machine: Dict[str, str]
    # what the test predictions (Experiment.predictions) took, in s summed
    # over the runs; None where some were kept without their time
    predict_seconds: Optional[float] = None


def all_runs(ctx: Context) -> List[Dict]:
    """The results of every run, all variants and seeds."""
    return [r for results in ctx.results.values() for r in results]


# --------------------------------------------------------------------------
# runs


def data_root_of(exp: Experiment, args: argparse.Namespace) -> str:
    """The data folder of the runs: ``--data-root``, else the default."""
    return args.data_root or osp.join(REPO, exp.data_root)


def run_dir(args: argparse.Namespace, variant: Variant, seed: int) -> str:
    """The work dir of one run."""
    return osp.join(args.work_dir, variant.key, f'seed{seed}')


def predictions_path(exp: Experiment, args: argparse.Namespace,
                     variant: Variant, seed: int) -> str:
    """Where the test predictions of one run are kept: a file or a folder
    (:attr:`Experiment.predictions_name`)."""
    return osp.join(run_dir(args, variant, seed), exp.predictions_name)


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
    return config_from_args(build_train_parser().parse_args([
        osp.join(REPO, variant.config), '--work-dir', args.work_dir,
        '--cfg-options', *options
    ]))


def variant_of(exp: Experiment, key: str) -> Variant:
    """The variant ``key`` of ``exp``."""
    return next(v for v in exp.variants if v.key == key)


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


def metric_values(exp: Experiment,
                  records: List[Dict]) -> Tuple[List[int], List[float]]:
    """The steps and values of ``exp.metric`` in a run's logged records,
    times ``exp.metric_scale`` (e.g. mmaction's accuracy, a fraction, in
    %)."""
    rows = [r for r in records if exp.metric in r]
    return ([r['step']
             for r in rows], [r[exp.metric] * exp.metric_scale for r in rows])


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


def require_default_settings(info: Dict, defaults: Dict, keys: Sequence[str],
                             converter: str, data_root: str) -> None:
    """Refuse a generated set whose settings differ from its converter's
    defaults, which the experiment's configs (normalisation, sizes) and
    report are written for.

    Args:
        info (dict): The set's ``meta/info.json``.
        defaults (dict): The converter's defaults.
        keys (Sequence[str]): The settings compared.
        converter (str): The converter under ``tools/dataset_converters/``.
        data_root (str): The set's folder.

    Raises:
        SystemExit: Naming the settings that differ and how to regenerate.
    """

    def plain(value):  # info.json holds lists where defaults hold tuples
        return list(value) if isinstance(value, (list, tuple)) else value

    differ = {
        key: (info[key], defaults[key])
        for key in keys if plain(info[key]) != plain(defaults[key])
    }
    if differ:
        found = ', '.join(f'{key}={value!r} (default {default!r})'
                          for key, (value, default) in differ.items())
        raise SystemExit(
            f'{data_root} was generated with {found}; regenerate it with '
            f'python tools/dataset_converters/{converter} {data_root} '
            '--overwrite')
