# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm: Global Reasoning units for OpenMMLab 2.x.

The OpenMMLab stack is installed by ``tools/setup_env.sh`` (mmcv 2.1.0 has to
be built from source against the installed torch); ``install_requires``
names only what pip can resolve on its own.
"""
import os
import os.path as osp
import shutil
import warnings
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
#: What OpenMMLab's ``mim`` looks for in ``<package>/.mim`` (``mim train``,
#: ``mim test``, ``mim search``), as mmseg, mmaction2 and mmpretrain ship.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'glore_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension(mim_dir: str, mode: str) -> None:
    """Put :data:`MIM_FILES` into ``mim_dir``, replacing what is there.

    Args:
        mim_dir (str): The ``glore_mm/.mim`` folder to fill.
        mode (str): ``'symlink'`` (editable installs: relative links into
            the checkout, so edits show at once; copies where links fail)
            or ``'copy'`` (wheels and normal installs).
    """
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if not osp.exists(src):
            warnings.warn(f'{src} is missing: mim will not find it')
            continue
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim_dir), dst)
                continue
            except OSError:
                pass  # e.g. Windows without the right to make links
        if osp.isdir(src):
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithMIM(build_py):
    """``build_py`` that also adds the mim extension to ``glore_mm/.mim``.

    An editable install (``pip install -e .``) links it in the checkout;
    any other build copies it into the build folder, hence into the wheel.
    """

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            add_mim_extension(osp.join(HERE, 'glore_mm', '.mim'), 'symlink')
        else:
            add_mim_extension(
                osp.join(self.build_lib, 'glore_mm', '.mim'), 'copy')


setup(
    name='glore_mm',
    version=read_version(),
    description='Graph-based Global Reasoning (GloRe) units for OpenMMLab',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['glore_mm', 'glore_mm.*']),
    python_requires='>=3.8',
    install_requires=['mmengine>=0.10.0,<1.0.0', 'torch>=1.13'],
    extras_require={
        'seg': ['mmsegmentation==1.2.2', 'ftfy', 'regex'],
        'action': ['mmaction2==1.2.0', 'decord==0.6.0'],
        'pretrain': ['mmpretrain==1.2.0'],
        'deploy': ['onnx==1.23.2', 'onnxruntime==1.31.1', 'onnxscript==0.7.2'],
    },
    cmdclass={'build_py': BuildPyWithMIM},
    zip_safe=False,
)
