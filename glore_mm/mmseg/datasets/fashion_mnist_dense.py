# Copyright (c) glore_mm contributors. All rights reserved.
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class FashionMNISTDenseDataset(BaseSegDataset):
    """Canvases of two Fashion-MNIST items, each labelled by the other.

    Reads the set written by
    ``tools/dataset_converters/fashion_mnist_dense.py``: grey canvases and
    label maps of the same name, in mmseg's layout::

        data_root
        |-- img_dir/{train,test}/000000.png
        `-- ann_dir/{train,test}/000000.png

    A pixel is background (0), part of an item whose class the other item
    shares (1, ``same``), or part of an item whose class the other item
    does not share (2, ``different``). Label 0 is a real class, so
    ``reduce_zero_label`` is off.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the label maps. Defaults to '.png'.
        reduce_zero_label (bool): Whether to turn label 0 into the ignore
            index. Defaults to False.
        **kwargs: The arguments of ``BaseSegDataset``.
    """
    METAINFO = dict(
        classes=('background', 'same', 'different'),
        palette=[[0, 0, 0], [230, 159, 0], [86, 180, 233]])

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
