# Copyright (c) glore_mm contributors. All rights reserved.
"""The command lines of tools/train.py and tools/test.py: every argument
of the train.py and test.py that mmseg, mmpretrain, mmaction and mmdet
install, what each does to a config, and the commands of the docs."""
import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

import pytest
from mmengine.config import Config

from glore_mm.engine.arguments import (add_runner_args, build_test_parser,
                                       build_train_parser, parse_runner_args)
from glore_mm.engine.cpu_distributed import (DISTRIBUTED_LAUNCHERS, LAUNCHERS,
                                             NO_LAUNCHER)
from glore_mm.engine.runner_setup import config_from_args
from glore_mm.engine.test_setup import apply_test_args, dump_metrics
from glore_mm.engine.train_setup import apply_train_args
from tests.tool_runner import REPO, TOOLS, CompletedProcess, run_tool, tool_env


def test_parse_runner_args_sets_local_rank(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parser = argparse.ArgumentParser()
    add_runner_args(parser)
    args = parse_runner_args(parser,
                             ['--local-rank', '3', '--cfg-options', 'a.b=1'])
    assert args.local_rank == 3 and args.cfg_options == {'a.b': 1}
    assert os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')
    args = parse_runner_args(parser, ['--local_rank', '5'])
    assert os.environ['LOCAL_RANK'] == '1'


def test_launchers():
    """MMEngine's four launchers; every one but 'none' is distributed."""
    assert LAUNCHERS == ('none', 'pytorch', 'slurm', 'mpi')
    assert NO_LAUNCHER == 'none'
    assert DISTRIBUTED_LAUNCHERS == ('pytorch', 'slurm', 'mpi')
    for parser in (build_train_parser(), build_test_parser()):
        launcher = next(a for a in parser._actions if a.dest == 'launcher')
        assert tuple(launcher.choices) == LAUNCHERS
        assert launcher.default == NO_LAUNCHER


@pytest.mark.parametrize('argv, resume', [
    ([], None),
    (['--resume'], 'auto'),
    (['--resume', '--amp'], 'auto'),
    (['--resume', 'ckpt.pth'], 'ckpt.pth'),
])
def test_train_arguments(argv, resume):
    args = parse_runner_args(build_train_parser(), ['cfg.py', *argv])
    assert args.config == 'cfg.py' and args.resume == resume
    assert args.amp == ('--amp' in argv)
    assert (args.launcher, args.work_dir, args.cfg_options) == ('none', None,
                                                                None)


def test_test_arguments():
    args = parse_runner_args(build_test_parser(), [
        'cfg.py', 'ckpt.pth', '--out', 'o', '--show-dir', 's', '--tta',
        '--launcher', 'pytorch'
    ])
    assert (args.checkpoint, args.out, args.show_dir, args.tta, args.launcher,
            args.wait_time, args.show) == ('ckpt.pth', 'o', 's', True,
                                           'pytorch', 2, False)


def _run_tool(name: str, *argv: str) -> CompletedProcess:
    return run_tool([sys.executable, TOOLS / name, *argv],
                    cwd=REPO,
                    env=tool_env(COLUMNS='80'),
                    ok=False)


@pytest.mark.parametrize('tool, parser', [('train.py', build_train_parser),
                                          ('test.py', build_test_parser)])
def test_tools_print_the_parsers_help(tool, parser, monkeypatch):
    """The tools' command lines are the package's parsers."""
    result = _run_tool(tool, '--help')
    assert result.returncode == 0, result.stderr
    monkeypatch.setenv('COLUMNS', '80')
    monkeypatch.setattr(sys, 'argv', [tool])
    assert result.stdout == parser().format_help()
    assert '--launcher {none,pytorch,slurm,mpi}' in result.stdout


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_tools_refuse_bad_arguments(tool):
    result = _run_tool(tool, 'cfg.py', 'ckpt.pth', '--launcher', 'ray')
    assert result.returncode == 2
    assert ("argument --launcher: invalid choice: 'ray' (choose from "
            "'none', 'pytorch', 'slurm', 'mpi')") in result.stderr
    assert result.stderr.startswith(f'usage: {tool} ')


# --- the upstream tools' command lines ---------------------------------

LIBRARIES = ('mmseg', 'mmpretrain', 'mmaction', 'mmdet')


class Option(NamedTuple):
    """An optional argument as ``--help`` shows it."""
    arity: str  # 'flag', 'value' or 'optional' (nargs='?')
    choices: Tuple[str, ...]


class CommandLine(NamedTuple):
    positionals: Tuple[str, ...]
    options: Dict[str, Option]


def _command_line(help_text: str) -> CommandLine:
    """Positional names and options of an argparse ``--help`` text."""
    positionals, options, section = [], {}, None
    for line in help_text.splitlines():
        if line and not line.startswith(' '):
            section = line.rstrip(':')
            continue
        if not line.startswith('  ') or line.startswith('   '):
            continue  # blank, or the help of the line before
        spec = re.split(r'\s{2,}', line.strip())[0]
        if section == 'positional arguments':
            positionals.append(spec)
            continue
        for part in spec.split(', '):
            name, _, value = part.partition(' ')
            choices = re.fullmatch(r'\{(.*)\}', value)
            options[name] = Option(
                'flag' if not value else
                'optional' if value.startswith('[') else 'value',
                tuple(choices[1].split(',')) if choices else ())
    return CommandLine(tuple(positionals), options)


def _upstream_tool(library: str, tool: str) -> Path:
    spec = importlib.util.find_spec(library)
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / '.mim' / 'tools' / tool
    assert path.is_file(), path
    return path


@pytest.fixture(scope='module')
def help_texts(tmp_path_factory) -> Dict[Tuple[str, str], str]:
    """``--help`` of the train.py and test.py that each library installs,
    run as processes."""
    cwd = tmp_path_factory.mktemp('help')
    tools = {
        (library, tool): _upstream_tool(library, tool)
        for library in LIBRARIES
        for tool in ('train.py', 'test.py')
    }
    env = tool_env(COLUMNS='80')

    def help_text(path: Path) -> str:
        return run_tool([sys.executable, path, '--help'], cwd, env).stdout

    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = dict(zip(tools, pool.map(help_text, tools.values())))
    return texts


# A value that an option of each arity accepts.
ACCEPTED_BY = {
    'flag': ('flag', 'optional'),
    'value': ('value', 'optional'),
    'optional': ('optional', ),
}


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
@pytest.mark.parametrize('library', LIBRARIES)
def test_every_upstream_argument_is_accepted(help_texts, library, tool):
    """Every argument of the library's own tool is one of ours, taking a
    value where theirs does, with their choices; a flag a new upstream
    version adds fails here."""
    theirs = _command_line(help_texts[library, tool])
    # the help our tools print (test_tools_print_the_parsers_help)
    parser = build_train_parser() if tool == 'train.py' else (
        build_test_parser())
    ours = _command_line(parser.format_help())
    assert theirs.options, help_texts[library, tool]
    assert ours.positionals == theirs.positionals
    for name, option in theirs.options.items():
        assert name in ours.options, f'{library} {tool} takes {name}'
        mine = ours.options[name]
        assert mine.arity in ACCEPTED_BY[option.arity], (name, mine, option)
        assert set(option.choices) <= set(mine.choices), name


# --- what each argument does to a config --------------------------------

CONFIG = '''
default_scope = 'mmaction'
model = dict(type='Recognizer3D')
optim_wrapper = dict(type='OptimWrapper')
loader = dict(batch_size=2, num_workers=2, persistent_workers=True,
              dataset=dict(pipeline=[dict(type='Load'), dict(type='Pack')]))
train_dataloader = loader
val_dataloader = loader
test_dataloader = loader
train_cfg = dict(max_epochs=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
val_evaluator = dict(type='AccMetric')
test_evaluator = dict(type='AccMetric')
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_hooks = dict(visualization=dict(type='VisualizationHook'))
'''


def _train(tmp_path: Path, *argv: str, **cfg_options) -> Config:
    """The config as tools/train.py edits it for ``argv``."""
    (tmp_path / 'cfg.py').write_text(CONFIG)
    args = build_train_parser().parse_args([str(tmp_path / 'cfg.py'), *argv])
    args.cfg_options = cfg_options or None
    cfg = config_from_args(args)
    apply_train_args(cfg, args)
    return cfg


def _test(tmp_path: Path, *argv: str, **cfg_options) -> Config:
    """The config as tools/test.py edits it for ``argv``."""
    (tmp_path / 'cfg.py').write_text(CONFIG)
    args = build_test_parser().parse_args(
        [str(tmp_path / 'cfg.py'), 'ckpt.pth', *argv])
    args.cfg_options = cfg_options or None
    cfg = config_from_args(args)
    apply_test_args(cfg, args)
    return cfg


def test_train_edits_nothing_unasked(tmp_path):
    cfg = _train(tmp_path)
    (tmp_path / 'plain.py').write_text(CONFIG)
    plain = Config.fromfile(str(tmp_path / 'plain.py'))
    for key in ('val_cfg', 'val_dataloader', 'auto_scale_lr',
                'train_dataloader'):
        assert cfg[key] == plain[key], key
    assert 'randomness' not in cfg and 'resume' not in cfg


def test_no_validate(tmp_path):
    cfg = _train(tmp_path, '--no-validate')
    assert (cfg.val_cfg, cfg.val_dataloader, cfg.val_evaluator) == (None, ) * 3
    assert cfg.test_dataloader is not None


def test_auto_scale_lr(tmp_path):
    cfg = _train(tmp_path, '--auto-scale-lr')
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=64)
    # mmseg configs have no base batch size: named, with the library
    with pytest.raises(ValueError) as error:
        _train(
            tmp_path,
            '--auto-scale-lr',
            auto_scale_lr=None,
            default_scope='mmseg')
    assert ('--auto-scale-lr needs auto_scale_lr.base_batch_size in '
            f"{tmp_path / 'cfg.py'} (library 'mmseg')") in str(error.value)


@pytest.mark.parametrize('randomness', [None, dict(seed=0, other=1)])
def test_randomness(tmp_path, randomness):
    cfg = _train(
        tmp_path,
        '--seed',
        '7',
        '--diff-rank-seed',
        '--deterministic',
        randomness=randomness)
    assert cfg.randomness.seed == 7
    assert cfg.randomness.diff_rank_seed and cfg.randomness.deterministic
    if randomness is not None:
        assert cfg.randomness.other == 1
    cfg = _train(tmp_path, '--deterministic', randomness=randomness)
    assert cfg.randomness.seed == (randomness or {}).get('seed')
    assert 'diff_rank_seed' not in cfg.randomness


def test_loader_switches(tmp_path):
    cfg = _train(tmp_path, '--no-pin-memory', '--no-persistent-workers')
    for key in ('train', 'val', 'test'):
        loader = cfg[f'{key}_dataloader']
        assert (loader.pin_memory, loader.persistent_workers) == (False, False)
    cfg = _test(tmp_path, '--no-pin-memory')
    assert cfg.test_dataloader.pin_memory is False
    assert cfg.test_dataloader.persistent_workers is True


@pytest.mark.parametrize('scope, metric', [('mmaction', 'DumpResults'),
                                           ('mmdet', 'DumpDetResults')])
def test_dump(tmp_path, scope, metric):
    for option in ('--dump', '--out'):
        cfg = _test(tmp_path, option, 'preds.pkl', default_scope=scope)
        assert [m.type for m in cfg.test_evaluator] == ['AccMetric', metric]
        assert cfg.test_evaluator[1].out_file_path == 'preds.pkl'
    with pytest.raises(ValueError, match=r"--dump 'preds.txt': .*\.pkl"):
        _test(tmp_path, '--dump', 'preds.txt')


def test_out_item(tmp_path):
    cfg = _test(tmp_path, '--out', 'metrics.json', '--out-item', 'metrics')
    assert cfg.test_evaluator == dict(type='AccMetric')
    cfg = _test(tmp_path, '--out', 'preds.pkl', '--out-item', 'pred')
    assert cfg.test_evaluator[1].type == 'DumpResults'
    with pytest.raises(ValueError, match='--out-item metrics needs --out'):
        _test(tmp_path, '--out-item', 'metrics')
    with pytest.raises(ValueError, match="--out 'metrics.txt' with --out-it"):
        _test(tmp_path, '--out', 'metrics.txt', '--out-item', 'metrics')
    path = tmp_path / 'out' / 'metrics.json'
    dump_metrics({'acc/top1': 0.5}, str(path))
    assert json.loads(path.read_text()) == {'acc/top1': 0.5}
    assert [p.name for p in path.parent.iterdir()] == ['metrics.json']


def test_interval_and_amp(tmp_path):
    cfg = _test(tmp_path, '--show-dir', 'vis', '--interval', '3', '--amp')
    hook = cfg.default_hooks.visualization
    assert (hook.enable, hook.interval, hook.out_dir) == (True, 3, 'vis')
    assert cfg.test_cfg == dict(type='TestLoop', fp16=True)
    with pytest.raises(ValueError, match='--interval 3 needs --show or'):
        _test(tmp_path, '--interval', '3')
    with pytest.raises(ValueError, match='--interval must be at least 1'):
        _test(tmp_path, '--show-dir', 'vis', '--interval', '0')
    with pytest.raises(ValueError, match='--amp needs test_cfg in'):
        _test(tmp_path, '--amp', test_cfg=None)


def test_tta_defaults_of_mmpretrain_and_mmdet(tmp_path):
    cfg = _test(tmp_path, '--tta', default_scope='mmpretrain')
    assert cfg.model == dict(
        type='mmpretrain.AverageClsScoreTTA', module=dict(type='Recognizer3D'))
    load, flip = cfg.test_dataloader.dataset.pipeline
    assert load == dict(type='Load')
    assert flip == dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=1.),
            dict(type='RandomFlip', prob=0.)
        ], [dict(type='Pack')]])
    # mmdet: its pipeline, inside dataset wrappers, packed with its keys
    wrapped = dict(dataset=dict(pipeline=[dict(type='L'), dict(type='P')]))
    cfg = _test(
        tmp_path,
        '--tta',
        default_scope='mmdet',
        **{'test_dataloader.dataset': wrapped})
    assert cfg.model.type == 'DetTTAModel'
    assert cfg.model.tta_cfg.nms.iou_threshold == 0.5
    load, flip = cfg.test_dataloader.dataset.pipeline
    assert load == dict(type='L')
    assert flip.transforms[1][0].type == 'PackDetInputs'
    # mmaction has no default: named, with the library
    with pytest.raises(ValueError) as error:
        _test(tmp_path, '--tta')
    assert ("--tta needs tta_pipeline and tta_model in "
            f"{tmp_path / 'cfg.py'}") in str(error.value)
    assert "library 'mmaction'" in str(error.value)


# --- the commands of the docs -------------------------------------------

DOCS = [REPO / 'README.md', *sorted((REPO / 'docs').glob('*.md'))]
# A command of our tools or launchers, and what follows it on its line.
LAUNCH = re.compile(r'(?:^|\s)(tools/(?:train|test)\.py|'
                    r'tools/(?:dist|slurm)_(?:train|test)\.sh)\s+(.*)$')
SHELL_OPERATORS = ('&&', '||', ';', '|', '>', '2>')
# Code blocks of shell commands: ```bash, ```shell, ```sh or no language.
SHELL_BLOCKS = ('bash', 'shell', 'sh', '')


def _without_substitutions(line: str) -> str:
    """``line`` with every ``$(...)`` replaced by one word."""
    while '$(' in line:
        start = line.index('$(')
        depth, end = 0, start + 1
        for end in range(start + 1, len(line)):
            depth += {'(': 1, ')': -1}.get(line[end], 0)
            if depth == 0:
                break
        line = line[:start] + 'SUBSTITUTED' + line[end + 1:]
    return line


def _tool_argv(script: str, words: List[str]) -> Tuple[str, List[str]]:
    """The tool (train or test) a documented command runs, and its
    arguments, as the launcher scripts pass them on."""
    for i, word in enumerate(words):
        if word in SHELL_OPERATORS:
            words = words[:i]
            break
    tool = 'train' if 'train' in script else 'test'
    if script.endswith('.py'):
        return tool, words
    if 'dist_' in script:  # CONFIG [CHECKPOINT] GPUS ...
        positionals = 1 if tool == 'train' else 2
        return tool, words[:positionals] + words[positionals + 1:]
    # slurm: PARTITION JOB_NAME CONFIG WORK_DIR|CHECKPOINT ...
    if tool == 'train':
        return tool, [words[2], '--work-dir', words[3], *words[4:]]
    return tool, words[2:]


def _doc_commands() -> List[Tuple[str, str, List[str]]]:
    """(doc and command, tool, arguments) of each command in a code block
    of README.md and docs/ that runs tools/train.py or tools/test.py."""
    commands = []
    for doc in DOCS:
        in_block, shell, line = False, False, ''
        for text in doc.read_text().splitlines():
            if text.strip().startswith('```'):
                in_block, line = not in_block, ''
                shell = text.strip()[3:] in SHELL_BLOCKS
                continue
            if not (in_block and shell):
                continue
            line += text.strip()
            if line.endswith('\\'):
                line = line[:-1] + ' '
                continue
            match = LAUNCH.search(_without_substitutions(line))
            if match:
                tool, argv = _tool_argv(match[1],
                                        shlex.split(match[2], comments=True))
                commands.append((f'{doc.name}: {line}', tool, argv))
            line = ''
    return commands


DOC_COMMANDS = _doc_commands()


def test_docs_have_commands():
    tools = {tool for _, tool, _ in DOC_COMMANDS}
    assert tools == {'train', 'test'}, DOC_COMMANDS


@pytest.mark.parametrize(
    'where, tool, argv', DOC_COMMANDS, ids=[c[0] for c in DOC_COMMANDS])
def test_doc_commands_parse(where, tool, argv):
    """Each documented command of our tools parses, and names a config
    that exists."""
    parser = build_train_parser() if tool == 'train' else build_test_parser()
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            args = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f'{where}\n{stderr.getvalue()}')
    if args.config.endswith('.py') and '::' not in args.config:
        assert (REPO / args.config).is_file(), where
