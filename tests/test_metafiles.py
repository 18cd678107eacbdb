# Copyright (c) glore_mm contributors. All rights reserved.
"""model-index.yml and the metafiles: OpenMMLab's schema, every config
listed exactly once, every entry naming a real config, and every figure one
that docs/experiments.md reports for that config."""
import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

REPO = Path(__file__).parents[1]
CONFIGS = sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'configs').rglob('*.py'))
METAFILES = sorted(
    str(p.relative_to(REPO))
    for p in (REPO / 'configs').glob('*/metafile.yml'))
TASKS = {
    'mmseg': 'Semantic Segmentation',
    'mmpretrain': 'Image Classification',
    'mmaction': 'Action Recognition',
}


def _load(path: str) -> dict:
    return yaml.safe_load((REPO / path).read_text())


def _models() -> List[dict]:
    return [
        model for metafile in _load('model-index.yml')['Import']
        for model in _load(metafile)['Models']
    ]


def test_model_index_imports_every_metafile():
    index = _load('model-index.yml')
    assert sorted(index['Import']) == METAFILES
    assert sorted(Path(m).parent.name for m in METAFILES) == sorted(TASKS)


def test_every_config_is_listed_once_and_every_entry_exists():
    configs = [model['Config'] for model in _models()]
    assert sorted(configs) == CONFIGS
    names = [model['Name'] for model in _models()]
    assert len(set(names)) == len(names)
    for model in _models():
        assert model['Name'] == Path(model['Config']).stem


@pytest.mark.parametrize('metafile', METAFILES)
def test_metafile_schema(metafile):
    data = _load(metafile)
    collections = {c['Name']: c for c in data['Collections']}
    for collection in collections.values():
        assert set(collection['Paper']) == {'Title', 'URL'}
        assert collection['Paper']['URL'].startswith('https://arxiv.org/')
        assert (REPO / collection['Code']['URL']).is_file()
        assert (REPO / collection['README']).is_file()
        assert collection['Metadata']['Training Data']
    task = TASKS[Path(metafile).parent.name]
    for model in data['Models']:
        assert model['In Collection'] in collections
        assert (REPO / model['Config']).is_file()
        # The config sits in this library's folder (or is the top-level
        # Cityscapes config, an mmseg one).
        assert Path(
            model['Config']).parent.name in (Path(metafile).parent.name,
                                             'configs')
        training_data = model['Metadata']['Training Data']
        assert training_data in collections[
            model['In Collection']]['Metadata']['Training Data']
        assert 'Weights' not in model  # no checkpoint is published
        (result, ) = model['Results']
        assert result['Task'] == task
        assert result['Dataset'] == training_data
        for value in result['Metrics'].values():
            assert isinstance(value, float)


def test_mim_parses_the_index():
    from modelindex.load_model_index import load
    index = load(str(REPO / 'model-index.yml'))
    index.build_models_with_collections()
    assert sorted(m.name for m in index.models) == sorted(m['Name']
                                                          for m in _models())


def _experiment_tables() -> Dict[str, List[float]]:
    """Config -> the per-seed metric docs/experiments.md reports."""
    text = (REPO / 'docs' / 'experiments.md').read_text()
    config_of = dict(
        re.findall(r'^\| (.+?) \| `(configs/\S+\.py)` \|', text, re.M))
    seeds = dict(
        re.findall(r'^\| (.+?) \| (\d+\.\d+(?: / \d+\.\d+)+) \|', text, re.M))
    return {
        config_of[variant]: [float(v) for v in values.split(' / ')]
        for variant, values in seeds.items() if variant in config_of
    }


def test_figures_are_the_measured_ones():
    """Every metric is seed 0 (the configs' own seed) of the experiment
    that trained that config; configs never trained here have none."""
    measured = _experiment_tables()
    assert measured, 'no experiment table found in docs/experiments.md'
    for model in _models():
        metrics = model['Results'][0]['Metrics']
        if model['Config'] not in measured:
            assert metrics == {}, model['Name']
            continue
        (value, ) = metrics.values()
        assert value == measured[model['Config']][0], model['Name']
    with_figures = [m for m in _models() if m['Results'][0]['Metrics']]
    assert len(with_figures) == len(measured)
