import time
import warnings

import pytest
import torch

from attnbook.measure import count_tensor_memory, measure_peak_memory, median_time, peak_tensor_memory


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


def test_views_of_inputs_made_before_the_call_are_not_counted():
    x = torch.ones(1000)  # allocated before the count
    assert peak_tensor_memory(lambda: x[10:].unfold(0, 10, 5).transpose(0, 1)) == 0
    assert peak_tensor_memory(lambda: x.view(10, 100).t() * 2) == 4000  # only the product is new


def test_quadratic_scores_grow_four_times_when_length_doubles():
    def scores(n):
        q = torch.randn(n, 16)
        return lambda: torch.softmax(q @ q.T, -1)

    small, large = peak_tensor_memory(scores(256)), peak_tensor_memory(scores(512))
    assert 3.5 < large / small < 4.5


def _flex_call():
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    q, k, v = (torch.randn(1, 1, 64, 8) for _ in range(3))
    block_mask = create_block_mask(lambda b, h, i, j: i >= j, None, None, 64, 64, device="cpu")

    def call():
        with warnings.catch_warnings():  # eager flex attention warns that it is unfused
            warnings.simplefilter("ignore", UserWarning)
            return flex_attention(q, k, v, block_mask=block_mask)

    return call


def test_flex_attention_is_marked_not_measurable_instead_of_crashing():
    # A higher-order op has no rule in the counter's dispatch mode (the bug the H100 run hit).
    reading = measure_peak_memory(_flex_call(), device="cpu")
    assert reading.bytes is None and reading.method == "not measurable"
    assert "flex_attention" in reading.reason
    assert peak_tensor_memory(_flex_call(), device="cpu") is None


def test_an_error_of_the_function_itself_propagates():
    def broken():
        return torch.ones(2) @ torch.ones(3)

    with pytest.raises(RuntimeError):
        count_tensor_memory(broken)


def test_cpu_readings_say_how_they_were_taken():
    reading = measure_peak_memory(lambda: torch.ones(1000) * 2, device="cpu")
    assert reading.method == "tensor count" and reading.reason is None and 8000 <= reading.bytes < 9000


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the allocator reading needs CUDA")
def test_cuda_reads_the_allocator_also_for_flex_attention():
    x = torch.ones(1000, device="cuda")
    reading = measure_peak_memory(lambda: x * 2, device="cuda")
    assert reading.method == "cuda allocator" and reading.bytes >= 4000
    assert measure_peak_memory(lambda: x * 2).method == "cuda allocator"  # inferred
    assert measure_peak_memory(lambda: torch.ones(1000) * 2).method == "tensor count"  # CPU work, CUDA machine
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    q, k, v = (torch.randn(1, 1, 256, 64, device="cuda") for _ in range(3))
    block_mask = create_block_mask(lambda b, h, i, j: i >= j, None, None, 256, 256, device="cuda")
    compiled = torch.compile(flex_attention)
    compiled(q, k, v, block_mask=block_mask)
    reading = measure_peak_memory(lambda: compiled(q, k, v, block_mask=block_mask), device="cuda")
    assert reading.bytes and reading.bytes > 0


def test_median_time_is_the_median_of_the_runs_after_the_warmup():
    # Two 50 ms warm-up calls, then calls that sleep 1, 5, 1 ms: the median of the three timed
    # runs is about 1 ms (a sleep never ends early); their mean (2.3 ms) is not, nor is the
    # median with the warm-up timed (5 ms).
    sleeps = iter([0.05, 0.05, 0.001, 0.005, 0.001])
    seconds = median_time(lambda: time.sleep(next(sleeps)), repeats=3, warmup=2)
    assert next(sleeps, "all used") == "all used"  # and no call more (StopIteration)
    assert 0.001 <= seconds < 0.002


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: peak_tensor_memory(3), TypeError, "fn must be callable, got int"),
        (lambda: count_tensor_memory("f"), TypeError, "fn must be callable, got str"),
        (lambda: median_time(lambda: None, repeats=0), ValueError, "repeats must be an integer >= 1, got 0"),
        (lambda: median_time(lambda: None, warmup=-1), ValueError, "warmup must be an integer >= 0, got -1"),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
