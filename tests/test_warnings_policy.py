"""pytest.ini turns warnings into errors for the project's own code, not for PyTorch's internals.

Each case runs a one-test file through pytest with the project's pytest.ini, in a subprocess,
and checks the outcome: a DeprecationWarning attributed to a module of attnbook (or to a
test) must fail the test; the same warning attributed to PyTorch's compile stack must not.
"""

import subprocess
import sys

import pytest
from book import ROOT

_TEST = '''
import warnings


def test_warns():
    code = compile("import warnings\\nwarnings.warn('old API', {category})", "<module>", "exec")
    exec(code, {{"__name__": "{module}"}})
'''


def _outcome(tmp_path, module: str, category: str = "DeprecationWarning") -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_one_warning.py"
    test_file.write_text(_TEST.format(module=module, category=category))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT), "-p", "no:nbval",
         "-o", "addopts=-p no:cacheprovider", "-q", str(test_file)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )


@pytest.mark.parametrize("module", ["attnbook.local.sliding_window", "attnbook", "test_something"])
def test_own_deprecation_warnings_fail(tmp_path, module):
    done = _outcome(tmp_path, module)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "DeprecationWarning: old API" in done.stdout


@pytest.mark.parametrize("module", ["torch.jit._script", "torch._dynamo.eval_frame", "torch._inductor.compile_fx"])
def test_deprecation_warnings_inside_torch_compile_stack_pass(tmp_path, module):
    done = _outcome(tmp_path, module)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("module", ["torch.jit._script", "torch.nn.functional", "torch.jitter"])
def test_other_warnings_from_torch_still_fail(tmp_path, module):
    category = "UserWarning" if module == "torch.jit._script" else "DeprecationWarning"
    done = _outcome(tmp_path, module, category)
    assert done.returncode == 1, done.stdout[-2000:]
