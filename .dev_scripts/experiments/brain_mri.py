# Copyright (c) glore_mm contributors. All rights reserved.
"""Segmentation of brain MRI slices: FCN-R18-D8 with mmseg's FCNHead or
with the GloRe head; val mIoU, and the projection maps of the trained
GloRe head on a val slice."""
import os
import os.path as osp
import subprocess
import sys
from typing import List

from experiment import (REPO, Context, data_root_of, declared_variants,
                        run_config)
from mmengine.config import Config
from report import (comparison_lines, decay_name, glore_unit, image_link,
                    optimizer_phrase, results_table, section_end)

from glore_mm.datasets.brain_mri import CLASSES


def prepare(data_root: str) -> None:
    """Make sure ``data_root`` holds the converted slices, else convert."""
    if osp.isdir(osp.join(data_root, 'img_dir', 'val')):
        return
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'dataset_converters', 'brain_mri.py'),
        data_root
    ]
    print('Preparing the brain MRI slices:', ' '.join(cmd))
    subprocess.run(cmd, check=True, cwd=REPO)


def input_shape(cfg: Config, data_root: str) -> tuple:
    """One training crop: (channels, height, width)."""
    return (3, *cfg.crop_size)


def vis_input(ctx: Context) -> str:
    """The experiment's val slice, else the first one."""
    val_dir = osp.join(
        data_root_of(ctx.experiment, ctx.args), 'img_dir', 'val')
    image = osp.join(val_dir, ctx.experiment.vis_image)
    if not osp.isfile(image):
        image = osp.join(val_dir, sorted(os.listdir(val_dir))[0])
    return image


def report(ctx: Context) -> List[str]:
    """The experiment's section."""
    args = ctx.args
    cfg = ctx.cfg
    exp = ctx.experiment
    schedule = '' if args.quick else ', the schedule of the configs'
    data_root = data_root_of(exp, args)
    num = {
        split: len(os.listdir(osp.join(data_root, 'img_dir', split)))
        for split in ('train', 'val')
    }
    backbone = cfg.model.backbone
    glore_variant = next(
        v for v in declared_variants(exp) if v.key == exp.visualise)
    _, unit = glore_unit(run_config(exp, glore_variant, args))
    lines = [
        f'## {exp.title}', '',
        f'FCN-R{backbone.depth}-D8 ({backbone.type}-{backbone.depth} with '
        f'{backbone.base_channels} base channels, trained from scratch) on '
        f'the {"x".join(map(str, cfg.crop_size))} axial slices of the MNI '
        f'ICBM152 template ({len(CLASSES)} classes: {", ".join(CLASSES)}; '
        f'{num["train"]} train / {num["val"]} val slices, '
        '`tools/dataset_converters/brain_mri.py`), with mmseg\'s `FCNHead` '
        'or with the GloRe head (`GloReHead`: conv, GloRe unit with '
        f'{unit.num_state} states and {unit.num_node} nodes, conv). Trained '
        f'for {cfg.train_cfg.max_iters} iterations of '
        f'{cfg.train_dataloader.batch_size} crops ({optimizer_phrase(cfg)}, '
        f'{decay_name(cfg)} decay{schedule}); mIoU on the {num["val"]} val '
        'slices.', '', *results_table(ctx), '',
        *comparison_lines(ctx, exp.baseline), '',
        'Std is the sample standard deviation over the seeds; losses are '
        'the total training loss (decode + 0.4 auxiliary), logged as means '
        f'every {cfg.default_hooks.logger.interval} iterations.', '',
        f'![training loss]({image_link(ctx, "loss")})', ''
    ]
    if 'vis' in ctx.images:
        lines += [
            '### Projection maps', '',
            f'The {unit.num_node} nodes of the trained GloRe head (seed '
            f'{args.seeds[0]}) on the held-out val slice `{exp.vis_image}`, '
            'drawn by `tools/visualization/vis_projection.py` (the 4 nodes '
            'with the most varied maps highlighted, contours where their '
            'normalised weight is at least 0.5):', '',
            f'![projection]({image_link(ctx, "vis")})', ''
        ]
    return lines + section_end(ctx)
