import pytest
import torch

from attnbook.data import make_cluttered_digits


def test_deterministic_and_in_range():
    first, second = make_cluttered_digits(20, seed=3), make_cluttered_digits(20, seed=3)
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert not torch.equal(first.images, make_cluttered_digits(20, seed=4).images)
    assert first.images.shape == (20, 1, 40, 40) and 0 <= first.images.min() and first.images.max() <= 1
    assert set(first.labels.tolist()) <= set(range(10))


def test_digit_lies_inside_its_box():
    data = make_cluttered_digits(10, seed=0, clutter=0)
    for image, (top, left, height, width) in zip(data.images, data.boxes.tolist()):
        inside = image[0, top:top + height, left:left + width].sum()
        assert inside > 0 and torch.isclose(inside, image.sum())


def test_splits_use_different_digits():
    train = make_cluttered_digits(5, seed=0, split="train", clutter=0)
    test = make_cluttered_digits(5, seed=0, split="test", clutter=0)
    assert not torch.equal(train.images, test.images)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"count": 0}, "count must be an integer >= 1, got 0"),
        ({"split": "valid"}, "split must be 'train' or 'test', got 'valid'"),
        ({"canvas": 12}, "must fit a canvas of 12"),
        ({"fragment": 20}, "fragments of 20"),
    ],
)
def test_bad_input(kwargs, words):
    arguments = {"count": 2, "seed": 0}
    arguments.update(kwargs)
    with pytest.raises(ValueError) as info:
        make_cluttered_digits(**arguments)
    assert words in str(info.value)
