"""The channel-choice task (issue 19): determinism, the label rule, the cue, the layout."""

import pytest
import torch

from attnbook.data import make_channel_choice
from attnbook.data.cluttered import _source_digits


def test_deterministic_and_seeded():
    first, second = make_channel_choice(30, seed=3), make_channel_choice(30, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not torch.equal(first.images, make_channel_choice(30, seed=4).images)
    assert first.images.shape == (30, 2, 40, 40) and 0 <= first.images.min() and first.images.max() <= 1


def test_the_label_rule():
    data = make_channel_choice(200, seed=0)
    assert torch.equal(data.choice[data.cue], data.digits[data.cue, 1])
    assert torch.equal(data.choice[~data.cue], data.digits[~data.cue, 0])
    assert torch.equal(data.control, data.digits[:, 0])
    assert (data.digits[:, 0] != data.digits[:, 1]).all()  # reading one channel blindly is right half the time
    assert 0.4 < data.cue.float().mean() < 0.6 and 0.4 < (data.choice == data.control).float().mean() < 0.6


def test_each_digit_is_on_its_own_channel_inside_its_box():
    data = make_channel_choice(20, seed=1)
    source, targets = _source_digits("train")
    for image, boxes, cue_box, cue in zip(data.images, data.boxes.tolist(), data.cue_boxes.tolist(), data.cue):
        for channel, (top, left, height, width) in enumerate(boxes):
            plane = image[channel].clone()
            if cue:
                plane[:cue_box[2], cue_box[1]:cue_box[1] + cue_box[3]] = 0
            inside = plane[top:top + height, left:left + width].sum()
            assert inside > 0 and torch.isclose(inside, plane.sum())
            assert top >= 4 + 16  # cue rows plus the gap


def test_the_cue_is_a_solid_square_in_both_channels_and_absent_without_it():
    data = make_channel_choice(40, seed=2)
    for image, cue, (top, left, height, width) in zip(data.images, data.cue, data.cue_boxes.tolist()):
        band = image[:, :4]
        if cue:
            assert (top, height, width) == (0, 4, 4)
            assert (band[:, :, left:left + 4] == 1).all() and band.sum() == 2 * 16
        else:
            assert band.sum() == 0 and (top, left, height, width) == (0, 0, 0, 0)


def test_the_gap_and_cue_size_move_the_layout():
    data = make_channel_choice(30, seed=0, canvas=48, cue_size=6, gap=20)
    assert (data.boxes[:, :, 0] >= 26).all() and (data.boxes[:, :, 0] <= 32).all()
    assert data.images[data.cue][:, :, :6].sum() == data.cue.sum() * 2 * 36


def test_splits_use_different_digits():
    assert not torch.equal(make_channel_choice(5, 0, "train").images, make_channel_choice(5, 0, "test").images)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"count": 0}, "count must be an integer >= 1, got 0"),
    ({"split": "valid"}, "split must be 'train' or 'test', got 'valid'"),
    ({"canvas": 30}, "need a canvas of at least 36, got canvas=30"),
    ({"gap": -1}, "gap must be an integer >= 0"),
    ({"cue_size": 0}, "cue_size must be an integer >= 1"),
])
def test_bad_input(kwargs, words):
    with pytest.raises(ValueError) as info:
        make_channel_choice(**{"count": 2, "seed": 0, **kwargs})
    assert words in str(info.value)
