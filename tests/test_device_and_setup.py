import numpy as np
import pytest
import torch

from attnbook.book import DEVICE_ENV_VAR
from attnbook import get_device, setup_notebook


def test_default_device(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_unknown_device_is_named(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV_VAR, "tpu7")
    with pytest.raises(ValueError, match="ATTNBOOK_DEVICE='tpu7' is not a device torch knows"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_is_named(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV_VAR, "cuda")
    with pytest.raises(ValueError, match="asks for CUDA, but no CUDA GPU is available"):
        get_device()


def test_setup_notebook_makes_runs_repeatable():
    threads = torch.get_num_threads()
    try:
        setup_notebook(seed=3, threads=1)
        first = (torch.rand(3), np.random.rand(2))
        assert torch.get_num_threads() == 1
        setup_notebook(seed=3, threads=1)
        second = (torch.rand(3), np.random.rand(2))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_setup_notebook_rejects_bad_threads():
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        setup_notebook(threads=0)
