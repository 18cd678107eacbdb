# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm: Global Reasoning units for OpenMMLab 2.x.

The OpenMMLab stack is installed by ``tools/setup_env.sh`` (mmcv 2.1.0 has to
be built from source against the installed torch); ``install_requires``
names only what pip can resolve on its own.
"""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'glore_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


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
    },
    zip_safe=False,
)
