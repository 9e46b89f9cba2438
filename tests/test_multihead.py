import pytest
import torch
from torch import nn

from attnbook import MultiHeadAttention, merge_heads, split_heads


def _pair(embed_dim=16, heads=4, bias=True, kdim=None, vdim=None, seed=0):
    torch.manual_seed(seed)
    reference = nn.MultiheadAttention(embed_dim, heads, bias=bias, batch_first=True, kdim=kdim, vdim=vdim)
    ours = MultiHeadAttention(embed_dim, heads, bias=bias, key_dim=kdim, value_dim=vdim)
    return reference.eval(), ours.load_torch_weights(reference)


def test_split_merge_roundtrip():
    x = torch.randn(2, 5, 12)
    assert split_heads(x, 3).shape == (2, 3, 5, 4)
    assert torch.equal(merge_heads(split_heads(x, 3)), x)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_equals_torch_self_attention(bias, need_weights):
    reference, ours = _pair(bias=bias)
    x = torch.randn(3, 7, 16)
    expected, expected_weights = reference(x, x, x, average_attn_weights=False)
    output, weights = ours(x, x, x, need_weights=need_weights)
    torch.testing.assert_close(output, expected)
    if need_weights:
        torch.testing.assert_close(weights, expected_weights)
    else:
        assert weights is None


def test_equals_torch_cross_attention_with_other_key_and_value_sizes_and_mask():
    reference, ours = _pair(kdim=5, vdim=3)
    query, key, value = torch.randn(2, 4, 16), torch.randn(2, 6, 5), torch.randn(2, 6, 3)
    mask = torch.rand(2, 1, 4, 6) > 0.5
    mask[..., 0] = True
    # torch.nn.MultiheadAttention's boolean masks mean True = do NOT attend.
    torch_mask = (~mask).expand(2, 4, 4, 6).reshape(8, 4, 6)
    expected, _ = reference(query, key, value, attn_mask=torch_mask)
    for need_weights in (True, False):
        output, _ = ours(query, key, value, mask=mask, need_weights=need_weights)
        torch.testing.assert_close(output, expected)


def test_fast_and_plain_paths_agree_on_fully_masked_rows(device):
    _, ours = _pair()
    ours = ours.to(device)
    x = torch.randn(2, 5, 16, device=device)
    mask = torch.ones(5, 5, dtype=torch.bool, device=device).tril()
    mask[2] = False
    plain, _ = ours(x, x, x, mask=mask)
    fast, _ = ours(x, x, x, mask=mask, need_weights=False)
    torch.testing.assert_close(fast, plain)
    torch.testing.assert_close(plain[:, 2], ours.out_proj.bias.expand(2, 16))


def test_gradients_flow():
    _, ours = _pair()
    x = torch.randn(2, 5, 16, requires_grad=True)
    ours(x, x, x)[0].sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in ours.parameters())


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda m: m(torch.zeros(2, 3, 8), torch.zeros(2, 3, 16), torch.zeros(2, 3, 16)), ValueError,
         "query and embed_dim must have the same feature size, got 8 and 16"),
        (lambda m: m(torch.zeros(3, 16), torch.zeros(3, 16), torch.zeros(3, 16)), ValueError,
         "query must have at least 3 dimensions"),
        (lambda m: m(torch.zeros(2, 3, 16), torch.zeros(2, 4, 16), torch.zeros(2, 5, 16)), ValueError,
         "key and value must have the same number of positions (dimension 1), got 4 and 5"),
        (lambda m: m(torch.zeros(2, 3, 16), torch.zeros(1, 4, 16), torch.zeros(1, 4, 16)), ValueError,
         "query and key must have the same batch size, got 2 and 1"),
        (lambda m: m(torch.zeros(2, 3, 16), torch.zeros(2, 4, 16), torch.zeros(2, 4, 16),
                     mask=torch.ones(4, 3, dtype=torch.bool)), ValueError, "does not broadcast"),
        (lambda m: MultiHeadAttention(16, 5), ValueError,
         "num_heads must divide embed_dim, got embed_dim=16 and num_heads=5"),
        (lambda m: MultiHeadAttention(16, 0), ValueError, "num_heads must be an integer >= 1, got 0"),
        (lambda m: m.load_torch_weights(nn.Linear(2, 2)), TypeError, "reference must be torch.nn.MultiheadAttention"),
        (lambda m: m.load_torch_weights(nn.MultiheadAttention(16, 2)), ValueError,
         "self and reference must have the same num_heads, got 4 and 2"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call(MultiHeadAttention(16, 4))
    assert words in str(info.value)
