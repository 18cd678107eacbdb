# The config to start with: FCN-R50-D8 with the GloRe head on Cityscapes,
# 512x1024 crops, 40k iterations, SyncBN, 8 GPUs x 1 image (the same total
# batch of 8 as mmseg's 4x2 FCN schedule):
#   tools/dist_train.sh configs/glore_fcn_cityscapes.py 8
# On 4 GPUs use configs/mmseg/glore_r50-d8_4xb2-40k_cityscapes-512x1024.py.
_base_ = './mmseg/glore_r50-d8_4xb2-40k_cityscapes-512x1024.py'
train_dataloader = dict(batch_size=1)
