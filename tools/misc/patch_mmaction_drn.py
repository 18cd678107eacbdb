# Copyright (c) glore_mm contributors. All rights reserved.
"""Restore ``mmaction.models.localizers.drn`` missing from mmaction2 1.2.0.

The mmaction2 1.2.0 wheel and sdist on PyPI were packaged without
``mmaction/models/localizers/drn/`` (open-mmlab/mmaction2#2714), yet
``mmaction/models/localizers/__init__.py`` imports ``.drn.drn.DRN``, so
``import mmaction.models`` fails for every user of the PyPI package.

This script adds the missing package and nothing else. It registers a
``DRN`` placeholder under the same name so that the import (and with it
the whole ``mmaction.models`` registry) works; building ``DRN`` raises an
error that points to the upstream issue. No other file of mmaction is
touched, and an installation that already has the module is left alone.

Usage: python tools/misc/patch_mmaction_drn.py
"""
import importlib.util
import os
import os.path as osp
import shutil
import sys
import tempfile

DRN_PY = '''\
# Written by glore_mm's tools/misc/patch_mmaction_drn.py: the PyPI package of
# mmaction2 1.2.0 lacks this module (open-mmlab/mmaction2#2714).
from mmaction.registry import MODELS


@MODELS.register_module()
class DRN:
    """Placeholder for the DRN localizer missing from mmaction2 1.2.0."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'DRN is not available: the PyPI package of mmaction2 1.2.0 ships '
            'without mmaction/models/localizers/drn/ (see '
            'open-mmlab/mmaction2#2714). Install mmaction2 from its source '
            'repository to use DRN.')
'''


def main() -> int:
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        print('mmaction is not installed; nothing to patch', file=sys.stderr)
        return 1
    root = list(spec.submodule_search_locations)[0]
    localizers = osp.join(root, 'models', 'localizers')
    target = osp.join(localizers, 'drn')
    if osp.exists(osp.join(target, 'drn.py')):
        print(f'{target} exists; mmaction needs no patch')
        return 0
    with open(osp.join(localizers, '__init__.py')) as f:
        if 'from .drn.drn import DRN' not in f.read():
            print(f'{localizers}/__init__.py does not import .drn.drn; '
                  'this mmaction needs no patch')
            return 0
    # Build the package beside its destination, then rename it into place:
    # an interrupted run never leaves a half-written module behind.
    tmp = tempfile.mkdtemp(prefix='.drn.', dir=localizers)
    try:
        with open(osp.join(tmp, '__init__.py'), 'w') as f:
            f.write('from .drn import DRN\n\n__all__ = [\'DRN\']\n')
        with open(osp.join(tmp, 'drn.py'), 'w') as f:
            f.write(DRN_PY)
        os.chmod(tmp, 0o755)
        os.rename(tmp, target)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    print(f'added the missing {target} (open-mmlab/mmaction2#2714)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
