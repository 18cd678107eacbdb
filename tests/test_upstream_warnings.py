# Copyright (c) glore_mm contributors. All rights reserved.
"""The known-harmless upstream warnings are silenced by name, no more."""
import sys
import warnings

from glore_mm.upstream_warnings import (KNOWN_WARNINGS,
                                        silence_known_upstream_warnings)
from tests.tool_runner import REPO, run_tool

BRAIN_CONFIG = REPO / 'configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py'


def test_a_tool_prints_its_results_first():
    """get_flops builds an mmseg model: before glore_mm silenced them, the
    pkg_resources, build_loss and avg_non_ignore warnings came first."""
    result = run_tool([
        sys.executable, REPO / 'tools/analysis_tools/get_flops.py',
        BRAIN_CONFIG
    ],
                      cwd=REPO)
    assert result.stdout.startswith('=' * 64), result.stdout[:500]
    for phrase in ('pkg_resources', 'build_loss', 'avg_non_ignore'):
        assert phrase not in result.stderr, result.stderr[-2000:]


def test_each_filter_names_one_warning():
    """A known warning is dropped; the same text from another category, and
    any other warning, still shows."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        silence_known_upstream_warnings()
        warnings.warn_explicit(
            'pkg_resources is deprecated as an API. See ...',
            UserWarning,
            'package_utils.py',
            17,
            module='mmengine.utils.package_utils')
        warnings.warn_explicit(
            '``build_loss`` would be deprecated soon',
            UserWarning,
            'builder.py',
            36,
            module='mmseg.models.builder')
        # same message, another module: not silenced
        warnings.warn_explicit(
            '``build_loss`` would be deprecated soon',
            UserWarning,
            'mine.py',
            1,
            module='my_project.builder')
        warnings.warn_explicit(
            'pkg_resources is deprecated as an API',
            DeprecationWarning,
            'x.py',
            1,
            module='x')
        warnings.warn('something else entirely', UserWarning)
    messages = [(type(w.message), str(w.message)) for w in caught]
    assert messages == [
        (UserWarning, '``build_loss`` would be deprecated soon'),
        (DeprecationWarning, 'pkg_resources is deprecated as an API'),
        (UserWarning, 'something else entirely'),
    ]


def test_every_known_warning_says_why():
    for known in KNOWN_WARNINGS:
        assert issubclass(known.category, Warning)
        assert known.message and known.module and len(known.reason) > 20
