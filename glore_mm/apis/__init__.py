# Copyright (c) glore_mm contributors. All rights reserved.
"""Use trained models: build a model from its config (the one way every
tool takes), segment, detect in or classify images, recognise actions in
videos, with the inferencers of mmseg, mmdet, mmpretrain and mmaction.

One module per concern: :mod:`.model` (config to model),
:mod:`.inferencers` (which library, its inferencer built strictly),
:mod:`.outputs` (inputs and where outputs go), :mod:`.results` (top-k,
printing, saving), :mod:`.video` (drawing on videos) and
:mod:`.inference` (runs over images and videos)."""
from .inference import (ImageJob, VideoJob, classify_images, detect_images,
                        draw_video_labels, infer_images, infer_videos,
                        prepare_images, prepare_videos, recognize_videos,
                        run_images, run_videos, segment_images)
from .inferencers import (CONFIG_SUFFIXES, IMAGE_LIBRARIES,
                          LIBRARY_MODEL_TYPES, VIDEO_LIBRARIES,
                          build_inferencer, config_library,
                          import_custom_modules, known_classes, read_config)
from .model import init_model, load_config
from .outputs import (DEFAULT_OUT_DIR, IMAGE_SUFFIXES, LABEL_MAP_SUFFIX,
                      PREDICTIONS_SUFFIX, VIDEO_SUFFIXES,
                      classification_output, detection_outputs, list_inputs,
                      segmentation_outputs, video_outputs)
from .results import (DetectionFiles, SegmentationFiles, TopK, describe,
                      format_result, format_top_k, save_top_k, top_k)
from .video import VIDEO_CODECS, draw_video_label

__all__ = [
    'CONFIG_SUFFIXES', 'DEFAULT_OUT_DIR', 'DetectionFiles', 'IMAGE_LIBRARIES',
    'IMAGE_SUFFIXES', 'ImageJob', 'LABEL_MAP_SUFFIX', 'LIBRARY_MODEL_TYPES',
    'PREDICTIONS_SUFFIX', 'SegmentationFiles', 'TopK', 'VIDEO_CODECS',
    'VIDEO_LIBRARIES', 'VIDEO_SUFFIXES', 'VideoJob', 'build_inferencer',
    'classification_output', 'classify_images', 'config_library', 'describe',
    'detect_images', 'detection_outputs', 'draw_video_label',
    'draw_video_labels', 'format_result', 'format_top_k',
    'import_custom_modules', 'infer_images', 'infer_videos', 'init_model',
    'known_classes', 'list_inputs', 'load_config', 'prepare_images',
    'prepare_videos', 'read_config', 'recognize_videos', 'run_images',
    'run_videos', 'save_top_k', 'segment_images', 'segmentation_outputs',
    'top_k', 'video_outputs'
]
