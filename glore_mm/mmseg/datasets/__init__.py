# Copyright (c) glore_mm contributors. All rights reserved.
from .brain_mri import BrainMRIDataset

__all__ = ['BrainMRIDataset']
