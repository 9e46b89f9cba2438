"""DRAW's Gaussian read (Gregor et al., 2015, section 3.2): hand computation, an
independent per-pixel reference, the crop it generalises, gradients, bad input."""

import math

import pytest
import torch

from attnbook.hard import crop, gaussian_filterbank, gaussian_read, pixel_to_location


def _reference(images, centres, stride, variance, size, gamma=1.0):
    """DRAW eq. 19-27 one output value at a time: each value is a weighted sum over every pixel
    of the 2-D weight F_Y[i, a] F_X[j, b], with each filter normalised over its axis."""
    batch, channels, height, width = images.shape
    out = torch.zeros(batch, channels, size, size, dtype=images.dtype)
    for n in range(batch):
        g_y = ((centres[n, 0].item() + 1) * height - 1) / 2
        g_x = ((centres[n, 1].item() + 1) * width - 1) / 2
        for i in range(size):
            mu_y = g_y + (i + 1 - size / 2 - 0.5) * stride
            f_y = [math.exp(-((a - mu_y) ** 2) / (2 * variance)) for a in range(height)]
            for j in range(size):
                mu_x = g_x + (j + 1 - size / 2 - 0.5) * stride
                f_x = [math.exp(-((b - mu_x) ** 2) / (2 * variance)) for b in range(width)]
                z = (sum(f_y) + 1e-8) * (sum(f_x) + 1e-8)
                for c in range(channels):
                    total = sum(f_y[a] * f_x[b] * images[n, c, a, b].item()
                                for a in range(height) for b in range(width))
                    out[n, c, i, j] = gamma * total / z
    return out


def test_hand_computation_one_filter_on_three_pixels():
    # one filter (N = 1) centred on the middle pixel of a 1 x 3 image, variance 1/2:
    # weights exp(-(a - 1)^2) = e^-1, 1, e^-1, normalised; values 0, 3, 6
    image = torch.tensor([[[[0.0, 3.0, 6.0]]]], dtype=torch.float64)
    centre = pixel_to_location(0.0, 1.0, 1, 3).double()[None]
    e = math.exp(-1)
    by_hand = (e * 0 + 1 * 3 + e * 6) / (2 * e + 1)
    read = gaussian_read(image, centre, 1.0, 0.5, 1)
    assert read.shape == (1, 1, 1, 1)
    assert read.item() == pytest.approx(by_hand, rel=1e-7)
    # the intensity gamma scales the read
    assert gaussian_read(image, centre, 1.0, 0.5, 1, intensities=2.0).item() == pytest.approx(2 * by_hand)


def test_filter_centres_follow_eq_19():
    bank = gaussian_filterbank(torch.tensor([10.0]), torch.tensor([3.0]), torch.tensor([0.1]), 4, 30)
    # mu_i = g + (i - N/2 - 1/2) delta for i = 1..4: 5.5, 8.5, 11.5, 14.5; tiny variance ->
    # each row puts its weight on the two pixels around its centre, half each
    expected = torch.tensor([[5.5, 8.5, 11.5, 14.5]])
    means = (bank * torch.arange(30.0)).sum(-1)
    torch.testing.assert_close(means, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(bank.sum(-1), torch.ones(1, 4))


@pytest.mark.parametrize(("stride", "variance", "size"), [(1.0, 0.7, 3), (2.5, 4.0, 2), (0.5, 9.0, 4)])
def test_matches_the_per_pixel_reference(stride, variance, size):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2, 2, 7, 9, generator=generator, dtype=torch.float64)
    centres = torch.rand(2, 2, generator=generator, dtype=torch.float64) * 1.6 - 0.8
    torch.testing.assert_close(gaussian_read(images, centres, stride, variance, size, intensities=1.5),
                               _reference(images, centres, stride, variance, size, 1.5))


def test_small_variance_unit_stride_equals_the_crop_at_pixel_centres():
    # a grid of N filters one pixel apart with a tiny variance reads pixels exactly, as the
    # crop (and slicing) does at pixel-centred positions
    images = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    # the centre of a 4 x 4 block, pixels 4-7 by 5-8, in float64 (pixel_to_location is float32)
    centre = torch.tensor([[(2 * 5.5 + 1) / 12 - 1, (2 * 6.5 + 1) / 12 - 1]], dtype=torch.float64)
    read = gaussian_read(images, centre, 1.0, 1e-3, 4)
    torch.testing.assert_close(read, images[:, :, 4:8, 5:9])
    extents = torch.tensor([[4 / 12, 4 / 12]], dtype=torch.float64)
    torch.testing.assert_close(read, crop(images, centre, extents, 4))


def test_per_image_parameters_match_one_image_at_a_time():
    generator = torch.Generator().manual_seed(3)
    images = torch.rand(3, 1, 8, 8, generator=generator)
    centres = torch.rand(3, 2, generator=generator) - 0.5
    strides, variances = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([0.5, 3.0, 1.0])
    batched = gaussian_read(images, centres, strides, variances, 3)
    for n in range(3):
        one = gaussian_read(images[n:n + 1], centres[n:n + 1], strides[n].item(), variances[n].item(), 3)
        torch.testing.assert_close(batched[n:n + 1], one)


def test_gradcheck_in_image_location_stride_variance_and_intensity():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(1, 1, 6, 7, generator=generator, dtype=torch.float64, requires_grad=True)
    centres = torch.tensor([[0.1, -0.2]], dtype=torch.float64, requires_grad=True)
    strides = torch.tensor([1.3], dtype=torch.float64, requires_grad=True)
    variances = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor([0.8], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: gaussian_read(a[0], a[1], a[2], a[3], 3, a[4]),
                                    (images, centres, strides, variances, gamma))


def test_location_gradient_reaches_far_pixels_only_with_a_large_variance():
    # one bright pixel far from the grid: the crop and a narrow read get no gradient for the
    # location; a wide read does, and it points towards the pixel
    image = torch.zeros(1, 1, 20, 20, dtype=torch.float64)
    image[0, 0, 2, 2] = 1.0
    far = pixel_to_location(15.0, 15.0, 20, 20).double()[None]

    def location_gradient(read):
        centre = far.clone().requires_grad_()
        read(centre).sum().backward()
        return centre.grad

    crop_gradient = location_gradient(
        lambda c: crop(image, c, torch.tensor([[0.2, 0.2]], dtype=torch.float64), 4))
    narrow = location_gradient(lambda c: gaussian_read(image, c, 1.0, 1.0, 4))
    wide = location_gradient(lambda c: gaussian_read(image, c, 1.0, 64.0, 4))
    assert crop_gradient.abs().max() == 0 and narrow.abs().max() < 1e-12
    assert (wide < 0).all()  # moving up and left (towards the pixel) increases the read


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"images": torch.zeros(1, 8, 8)}, ValueError, "images must have at least 4 dimensions"),
        ({"images": torch.zeros(1, 1, 8, 8, dtype=torch.long)}, TypeError, "images must be a floating-point"),
        ({"centres": torch.zeros(2, 2)}, ValueError, "centres must have shape (batch, 2) = (1, 2), got (2, 2)"),
        ({"strides": torch.ones(2)}, ValueError, "strides must be a number or have shape (batch,) = (1,)"),
        ({"strides": 0.0}, ValueError, "strides must be > 0, got a smallest value of 0"),
        ({"variances": -1.0}, ValueError, "variances must be > 0, got a smallest value of -1"),
        ({"variances": True}, TypeError, "variances must be a number or a (batch,) tensor, got True"),
        ({"size": 0}, ValueError, "size must be an integer >= 1, got 0"),
    ],
)
def test_bad_input_is_named(kwargs, error, words):
    arguments = {"images": torch.zeros(1, 1, 8, 8), "centres": torch.zeros(1, 2), "strides": 1.0,
                 "variances": 1.0, "size": 3}
    arguments.update(kwargs)
    with pytest.raises(error) as info:
        gaussian_read(**arguments)
    assert words in str(info.value)
