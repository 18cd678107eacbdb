# Copyright (c) glore_mm contributors. All rights reserved.
"""Datasets on disk: the converters and generators behind
``tools/dataset_converters/``.

Each module writes one dataset in the layout its OpenMMLab dataset class
reads (the classes themselves live beside their library, e.g.
:class:`glore_mm.mmseg.datasets.BrainMRIDataset`):

- :mod:`.cityscapes`: Cityscapes labelIds -> labelTrainIds and split files.
- :mod:`.tiny_cityscapes`: a tiny Cityscapes tree of drawn street scenes.
- :mod:`.brain_mri`: brain MRI slices of the MNI ICBM152 template.
- :mod:`.fashion_mnist`: Fashion-MNIST's IDX files for mmpretrain.
- :mod:`.fashion_mnist_pairs`: canvases of two Fashion-MNIST items far
  apart, labelled by whether they are of the same class.
- :mod:`.fashion_mnist_detection`: canvases of Fashion-MNIST items at
  random places and scales, with COCO boxes and masks for mmdet.
- :mod:`.fashion_mnist_dense`: canvases of three Fashion-MNIST items whose
  pixels are labelled by whether the item's class occurs elsewhere on the
  canvas, for mmseg.
- :mod:`.fashion_mnist_clips`: clips whose label says whether the items of
  the first and the last frame are of the same class, as mmaction
  rawframes.
- :mod:`.tiny_kinetics`: a tiny Kinetics-400 tree of real clips.
"""
from .brain_mri import build_brain_mri
from .cityscapes import convert_cityscapes, label_ids_to_train_ids
from .fashion_mnist import convert as convert_fashion_mnist
from .fashion_mnist_clips import make_fashion_mnist_clips
from .fashion_mnist_dense import make_fashion_mnist_dense
from .fashion_mnist_detection import make_fashion_mnist_detection
from .fashion_mnist_pairs import make_fashion_mnist_pairs
from .tiny_cityscapes import make_tiny_cityscapes
from .tiny_kinetics import make_tiny_kinetics
from .utils import (check_empty_or_overwrite, default_cache_dir, fetch_wheel,
                    publish_dir, staged_dir)

__all__ = [
    'build_brain_mri', 'check_empty_or_overwrite', 'convert_cityscapes',
    'convert_fashion_mnist', 'default_cache_dir', 'fetch_wheel',
    'label_ids_to_train_ids', 'make_fashion_mnist_clips',
    'make_fashion_mnist_dense', 'make_fashion_mnist_detection',
    'make_fashion_mnist_pairs', 'make_tiny_cityscapes', 'make_tiny_kinetics',
    'publish_dir', 'staged_dir'
]
