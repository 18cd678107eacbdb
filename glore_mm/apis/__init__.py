# Copyright (c) glore_mm contributors. All rights reserved.
"""Use trained models: build a model from its config (the one way every
tool takes), segment or classify images, recognise actions in videos, with
the inferencers of mmseg, mmpretrain and mmaction."""
from .inference import (IMAGE_LIBRARIES, VIDEO_LIBRARIES, SegmentationFiles,
                        TopK, build_inferencer, classify_images,
                        config_library, format_result, import_custom_modules,
                        infer_images, infer_videos, list_inputs,
                        recognize_videos, segment_images, segmentation_outputs)
from .model import init_model, load_config

__all__ = [
    'IMAGE_LIBRARIES', 'VIDEO_LIBRARIES', 'SegmentationFiles', 'TopK',
    'build_inferencer', 'classify_images', 'config_library',
    'import_custom_modules', 'format_result', 'infer_images', 'infer_videos',
    'init_model', 'list_inputs', 'load_config', 'recognize_videos',
    'segment_images', 'segmentation_outputs'
]
