# Copyright (c) glore_mm contributors. All rights reserved.
from .brain_mri import BrainMRIDataset
from .fashion_mnist_dense import FashionMNISTDenseDataset

__all__ = ['BrainMRIDataset', 'FashionMNISTDenseDataset']
