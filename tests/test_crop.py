import pytest
import torch
import torch.nn.functional as F

from attnbook.hard import crop, crop_theta
from attnbook.hard import pixel_to_location


@pytest.mark.parametrize("size", [5, (4, 7)])
def test_matches_affine_grid_and_grid_sample(size):
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(3, 2, 12, 10, generator=generator)
    centres = torch.rand(3, 2, generator=generator) * 1.6 - 0.8
    extents = torch.rand(3, 2, generator=generator) * 0.8 + 0.2
    out_size = (size, size) if isinstance(size, int) else size
    grid = F.affine_grid(crop_theta(centres, extents), (3, 2, *out_size), align_corners=False)
    expected = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(crop(images, centres, extents, size), expected)


@pytest.mark.parametrize(("top", "left", "side"), [(0, 0, 4), (3, 5, 4), (2, 1, 7)])
def test_equals_slicing_at_integer_positions(top, left, side):
    images = torch.randn(2, 3, 12, 14)
    height, width = images.shape[-2:]
    centre = pixel_to_location(top + (side - 1) / 2, left + (side - 1) / 2, height, width)
    extents = torch.tensor([[side / height, side / width]]).expand(2, 2)
    out = crop(images, centre[None].expand(2, 2), extents, side)
    torch.testing.assert_close(out, images[:, :, top:top + side, left:left + side])


def test_the_whole_image_is_the_identity():
    images = torch.randn(2, 1, 9, 9)
    torch.testing.assert_close(crop(images, torch.zeros(2, 2), torch.ones(2, 2), 9), images)


def test_gradcheck_in_image_centre_and_extent():
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(1, 1, 6, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    centres = torch.tensor([[0.13, -0.21]], dtype=torch.float64, requires_grad=True)
    extents = torch.tensor([[0.47, 0.53]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda i, c, e: crop(i, c, e, 3), (images, centres, extents))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"images": torch.zeros(1, 8, 8)}, ValueError, "images must have at least 4 dimensions"),
        ({"centres": torch.zeros(2, 2)}, ValueError, "centres must have shape (batch, 2) = (1, 2), got (2, 2)"),
        ({"extents": torch.zeros(1, 2)}, ValueError, "extents must be > 0"),
        ({"extents": torch.ones(1, 3)}, ValueError, "extents must have shape (batch, 2)"),
        ({"size": 0}, ValueError, "size must be an integer >= 1, got 0"),
        ({"size": (2, 3, 4)}, ValueError, "size must be an integer or a pair of integers"),
        ({"images": torch.zeros(1, 1, 8, 8, dtype=torch.long)}, TypeError, "images must be a floating-point tensor"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    arguments = {"images": torch.zeros(1, 1, 8, 8), "centres": torch.zeros(1, 2), "extents": torch.ones(1, 2) * 0.5,
                 "size": 4}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        crop(**arguments)
    assert words in str(info.value)
