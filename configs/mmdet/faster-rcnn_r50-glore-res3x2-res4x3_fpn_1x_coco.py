# Faster R-CNN R-50-FPN 1x on COCO with the paper's 5 GloRe units: 2 in res3
# (layer2) after the authors' blocks 1 and 3, 3 in res4 (layer3) after
# blocks 1, 3 and 5 (counted from 1), our layer2.0, layer2.2, layer3.0,
# layer3.2 and layer3.4 (glore_units='paper', i.e. 'res3x2-res4x3', the
# paper's "+2+3"). Otherwise as faster-rcnn_r50-glore-res4x3_fpn_1x_coco.py.
_base_ = './faster-rcnn_r50-glore-res4x3_fpn_1x_coco.py'
model = dict(backbone=dict(glore_units='res3x2-res4x3'))
