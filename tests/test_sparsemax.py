import numpy as np
import pytest
import torch

from attnbook.hard import sparsemax, sparsemax_threshold


def _reference(z: np.ndarray) -> np.ndarray:
    """Martins & Astudillo (2016), Algorithm 1, one vector at a time in NumPy."""
    z_sorted = np.sort(z)[::-1]
    k = 0
    for j in range(1, len(z) + 1):
        if 1 + j * z_sorted[j - 1] > z_sorted[:j].sum():
            k = j
    tau = (z_sorted[:k].sum() - 1) / k
    return np.maximum(z - tau, 0)


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 4, 6)])
@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])
def test_matches_the_sort_based_closed_form(shape, scale):
    scores = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * scale
    flat = scores.reshape(-1, shape[-1]).numpy()
    expected = torch.tensor(np.stack([_reference(row) for row in flat])).reshape(shape)
    torch.testing.assert_close(sparsemax(scores), expected)
    assert torch.allclose(sparsemax(scores).sum(-1), torch.ones(shape[:-1], dtype=torch.float64))


def test_other_dims_and_the_projection_property():
    scores = torch.randn(4, 6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(sparsemax(scores, dim=1), sparsemax(scores.transpose(1, 2)).transpose(1, 2))
    weights = sparsemax(scores[0, :, 0])
    # the projection is closer to the scores than any other point of the simplex we try
    others = torch.distributions.Dirichlet(torch.ones(6, dtype=torch.float64)).sample((500,))
    assert ((weights - scores[0, :, 0]).norm() <= (others - scores[0, :, 0]).norm(dim=-1) + 1e-12).all()


def test_sparse_and_softmax_like_limits():
    weights = sparsemax(torch.tensor([3.0, 1.0, 0.5, -2.0]))
    torch.testing.assert_close(weights, torch.tensor([1.0, 0.0, 0.0, 0.0]))  # a large gap: one-hot
    torch.testing.assert_close(sparsemax(torch.zeros(5)), torch.full((5,), 0.2))  # ties: uniform
    tau, k = sparsemax_threshold(torch.tensor([[1.0, 0.8, 0.1]]))
    assert k.item() == 2 and abs(tau.item() - 0.4) < 1e-6


def test_gradcheck_float64():
    scores = torch.randn(3, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sparsemax, (scores,))
    assert torch.autograd.gradcheck(lambda s: sparsemax(s, dim=0), (scores,))


def test_gradient_equals_the_jacobian_formula():
    scores = torch.tensor([1.0, 0.8, 0.1, -1.0], dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(sparsemax, scores)
    support = (sparsemax(scores) > 0).double()
    torch.testing.assert_close(jacobian, torch.diag(support) - torch.outer(support, support) / support.sum())


def test_masked_entries_and_fully_masked_rows():
    scores = torch.tensor([[0.5, float("-inf"), 0.2], [float("-inf")] * 3])
    weights = sparsemax(scores)
    torch.testing.assert_close(weights[0], torch.tensor([0.65, 0.0, 0.35]))
    assert torch.equal(sparsemax(scores[:1, [0, 2]]), weights[:1, [0, 2]])  # masking = leaving it out
    assert torch.equal(weights[1], torch.zeros(3)) and torch.isfinite(weights).all()
    leaf = scores.clone().requires_grad_()
    (sparsemax(leaf) * torch.arange(3.0)).sum().backward()
    assert torch.isfinite(leaf.grad).all() and torch.equal(leaf.grad[1], torch.zeros(3))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: sparsemax([1.0, 2.0]), TypeError, "scores must be a torch.Tensor, got list"),
        (lambda: sparsemax(torch.tensor([1, 2])), TypeError, "scores must be a floating-point tensor"),
        (lambda: sparsemax(torch.tensor([1.0, float("nan")])), ValueError, "must not contain NaN or +inf"),
        (lambda: sparsemax(torch.tensor([1.0, float("inf")])), ValueError, "must not contain NaN or +inf"),
        (lambda: sparsemax(torch.zeros(2, 3), dim=2), ValueError, "dim must be an integer in [-2, 1], got 2"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
