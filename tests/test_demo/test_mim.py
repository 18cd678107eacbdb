# Copyright (c) glore_mm contributors. All rights reserved.
"""OpenMMLab's mim runs glore_mm as it runs mmseg: ``mim train``, ``mim
test`` and ``mim search`` find the tools, configs and model index under
``glore_mm/.mim``, in this (editable) install and in a wheel."""
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Dict, List

import yaml

from tests.test_demo.demo_runs import NUM_VAL, mim_command
from tests.tool_runner import REPO, log_text, run_tool, tool_env

PACKAGE_FILES = ('setup.py', 'setup.cfg', 'README.md', 'model-index.yml',
                 'glore_mm', 'configs', 'tools')


def _models() -> List[dict]:
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    return [
        model for metafile in index['Import']
        for model in yaml.safe_load((REPO / metafile).read_text())['Models']
    ]


def _model_names() -> List[str]:
    return sorted(model['Name'] for model in _models())


def test_mim_train_runs_our_train_tool(seg_trained):
    assert re.search(r'Training command is .*glore_mm/\.mim/tools/train\.py',
                     seg_trained.output)
    log = log_text(seg_trained.work_dir)
    assert re.findall(r'Iter\(train\) \[\s*(\d+)/', log) == ['1', '2']
    assert seg_trained.checkpoint.is_file()


def test_mim_test_runs_our_test_tool(seg_tested, seg_trained, val_images):
    assert re.search(r'Testing command is .*glore_mm/\.mim/tools/test\.py',
                     seg_tested.output)
    assert f'Load checkpoint from {seg_trained.checkpoint}' in (
        seg_tested.output)
    assert re.search(r'mIoU: \d+\.\d+', seg_tested.output)
    assert sorted(p.name for p in seg_tested.pred_dir.glob('*.png')) == [
        f'{image.stem}.png' for image in val_images
    ]
    assert len(val_images) == NUM_VAL


def _search(cwd: Path, **env: str) -> Dict[str, Dict[str, object]]:
    """``mim search glore_mm --json``: {model: {field: value}}."""
    out = cwd / 'search.json'
    run_tool(
        mim_command('search', 'glore_mm', '--json', out),
        cwd=cwd,
        env=tool_env(**env))
    models: Dict[str, Dict[str, object]] = {}
    # pandas' to_json: {field: {model: value}}
    for field, values in json.loads(out.read_text()).items():
        for model, value in values.items():
            models.setdefault(model, {})
            if value is not None:
                models[model][field] = value
    return models


def test_mim_search_lists_every_model(tmp_path):
    found = _search(tmp_path)
    assert sorted(found) == _model_names()
    for model in _models():
        assert found[model['Name']]['config'] == model['Config']
        # mim's field names: '<dataset>/<metric>', lower case, '_' for ' '
        for result in model['Results']:
            for metric, value in result['Metrics'].items():
                field = (f"{result['Dataset'].lower()}/"
                         f"{metric.lower().replace(' ', '_')}")
                assert found[model['Name']][field] == value
    assert any(model['Results'][0]['Metrics'] for model in _models())


def test_wheel_carries_copies(tmp_path):
    """A normal install copies configs/, tools/ and model-index.yml into
    glore_mm/.mim, and mim finds them there without the checkout."""
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '.mim', '*.egg-info')
    for name in PACKAGE_FILES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=ignore)
        else:
            shutil.copy(REPO / name, src / name)
    run_tool([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w', tmp_path / 'dist', src
    ],
             cwd=tmp_path)
    (wheel, ) = (tmp_path / 'dist').glob('glore_mm-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for config in sorted((REPO / 'configs').rglob('*.py')):
        assert f'glore_mm/.mim/{config.relative_to(REPO)}' in names
    for name in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh',
                 'model-index.yml', 'configs/mmseg/metafile.yml'):
        assert f'glore_mm/.mim/{name}' in names
    target = tmp_path / 'site'
    run_tool([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
        '--no-compile', '-q', '--target', target, wheel
    ],
             cwd=tmp_path)
    mim_dir = target / 'glore_mm' / '.mim'
    assert not os.path.islink(mim_dir / 'configs')
    assert (mim_dir / 'tools' /
            'train.py').read_bytes() == (REPO / 'tools' /
                                         'train.py').read_bytes()
    found = _search(tmp_path, PYTHONPATH=str(target))
    assert sorted(found) == _model_names()
