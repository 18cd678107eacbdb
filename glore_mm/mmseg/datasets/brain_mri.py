# Copyright (c) glore_mm contributors. All rights reserved.
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class BrainMRIDataset(BaseSegDataset):
    """Axial brain MRI slices labelled background / grey / white matter.

    Reads the set written by ``tools/dataset_converters/brain_mri.py`` from
    the MNI ICBM152 2009a template: 8-bit T1 slices and label maps of the
    same name, in mmseg's layout::

        data_root
        |-- img_dir/{train,val}/mni152_z<zzz>.png
        `-- ann_dir/{train,val}/mni152_z<zzz>.png

    Label 0 is a real class (background), so ``reduce_zero_label`` is off.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the label maps. Defaults to '.png'.
        reduce_zero_label (bool): Whether to turn label 0 into the ignore
            index. Defaults to False.
        **kwargs: The arguments of ``BaseSegDataset``.
    """
    METAINFO = dict(
        classes=('background', 'grey matter', 'white matter'),
        palette=[[0, 0, 0], [220, 20, 60], [70, 130, 180]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
