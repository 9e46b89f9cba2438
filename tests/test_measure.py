import pytest
import torch

from attnbook.measure import median_time, peak_tensor_memory


def test_peak_counts_tensors_alive_together():
    def two_alive():
        a = torch.ones(1000)  # 4000 bytes
        b = a * 2            # 4000 more while a lives
        return b.sum()

    assert 8000 <= peak_tensor_memory(two_alive) < 9000


def test_freed_tensors_are_not_counted_twice():
    def one_at_a_time():
        for _ in range(5):
            x = torch.ones(1000)
            del x

    assert peak_tensor_memory(one_at_a_time) == 4000


def test_quadratic_scores_grow_four_times_when_length_doubles():
    def scores(n):
        q = torch.randn(n, 16)
        return lambda: torch.softmax(q @ q.T, -1)

    small, large = peak_tensor_memory(scores(256)), peak_tensor_memory(scores(512))
    assert 3.5 < large / small < 4.5


def test_median_time_is_positive():
    assert median_time(lambda: torch.ones(10).sum(), repeats=3) > 0


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: peak_tensor_memory(3), TypeError, "fn must be callable, got int"),
        (lambda: median_time(lambda: None, repeats=0), ValueError, "repeats must be an integer >= 1, got 0"),
        (lambda: median_time(lambda: None, warmup=-1), ValueError, "warmup must be an integer >= 0, got -1"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
