# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.apis.outputs: the inputs of a path and where their outputs
go."""
import pytest

from glore_mm.apis import list_inputs, segmentation_outputs, video_outputs


def test_outputs_of_a_folder(tmp_path):
    for name in ('b.jpg', 'a.png', 'notes.txt'):
        (tmp_path / name).write_text('')
    images = list_inputs(str(tmp_path), ('.jpg', '.png'))
    assert images == [str(tmp_path / 'a.png'), str(tmp_path / 'b.jpg')]
    outputs = segmentation_outputs(str(tmp_path), images, 'vis')
    assert outputs == [('vis/a.png', 'vis/a_label.png'),
                       ('vis/b.png', 'vis/b_label.png')]
    (tmp_path / 'a.jpg').write_text('')
    with pytest.raises(ValueError) as error:
        segmentation_outputs(
            str(tmp_path), list_inputs(str(tmp_path), ('.jpg', '.png')), 'vis')
    assert 'would both be written to' in str(error.value)
    with pytest.raises(ValueError) as error:
        video_outputs(str(tmp_path), images, str(tmp_path / 'a.png'))
    assert 'is a file, but the input' in str(error.value)


@pytest.mark.parametrize('plan, out', [
    (segmentation_outputs, 'seg.png'),
    (video_outputs, 'drawn.mp4'),
])
def test_a_folder_is_not_written_to_a_file_name(tmp_path, plan, out):
    """A folder's outputs go to a folder: a name with a file's suffix is
    refused (a folder of that name would be made), unless it is a folder
    already."""
    (tmp_path / 'a.png').write_text('')
    inputs = [str(tmp_path / 'a.png')]
    with pytest.raises(ValueError) as error:
        plan(str(tmp_path), inputs, str(tmp_path / 'out' / out))
    assert f"{out}' is a file name, but the input" in str(error.value)
    assert 'give a folder' in str(error.value)
    assert not (tmp_path / 'out').exists()
    folder = tmp_path / 'out' / out
    folder.mkdir(parents=True)
    assert plan(str(tmp_path), inputs, str(folder))


def test_list_inputs_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        list_inputs(str(tmp_path / 'missing'), ('.png', ))
    assert 'is neither a file nor a folder' in str(error.value)
    with pytest.raises(ValueError) as error:
        list_inputs(str(tmp_path), ('.png', ))
    assert "has no file ending in ['.png']" in str(error.value)
