# Faster R-CNN R-50-FPN 1x on COCO with 3 GloRe units in res4 (layer3): after
# the authors' blocks 1, 3 and 5 (counted from 1), our 0-based layer3.0,
# layer3.2 and layer3.4 (glore_units='res4x3', the paper's "+3"). Each unit
# follows a whole residual block, after its residual add, where the authors
# put theirs; docs/detection.md compares this with mmdet's plugins=. The
# torchvision ResNet-50 of the base loads with only the units' keys
# missing, and each unit starts as the identity. mmdet's schedule: 8 GPUs x
# 2 images, 12 epochs. The base keeps every backbone BN in eval mode
# (norm_eval=True), the units' gates included (docs/detection.md).
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(imports=['glore_mm.mmdet'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(backbone=dict(type='GloReResNet', glore_units='res4x3'))
