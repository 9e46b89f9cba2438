"""A slider displays through IPython's display machinery with ipywidgets 7.7.1 (Colab's) and 8.

Colab ships ipywidgets 7.7.1, whose widgets have no ``_repr_mimebundle_``.
ipywidgets 7.7.1 is installed from PyPI (``pip install --no-deps --target``)
into ``.cache/`` (ignored by git) once and reused; a subprocess puts it first
on ``sys.path`` beside this environment's IPython, ipykernel and traitlets (the
only Python packages it imports; its other requirements, widgetsnbextension and
jupyterlab_widgets, are front-end files). A failed install fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IPYWIDGETS_7 = ("ipywidgets==7.7.1", "ipython_genutils==0.2.0")
CACHE = ROOT / ".cache" / "ipywidgets-7.7.1"

# Displays a two-parameter slider the way a notebook cell's last expression is
# displayed and prints what the front end would receive.
PROBE = r"""
import json
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import ipywidgets
from ipywidgets.widgets import widget as widget_module
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output
import attnbook as ab

def plot(slope, offset):
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [offset, offset + slope])
    return figure

InteractiveShell.instance()
with capture_output() as captured:
    display(ab.slider(plot, slope=[0, 1, 2], offset=[0, 1]))
instances = getattr(widget_module, "_instances", None) or ipywidgets.Widget.widgets
outputs = []
for output in captured.outputs:
    view = output.data.get("application/vnd.jupyter.widget-view+json")
    shown = instances.get(view["model_id"]) if view else None
    outputs.append({
        "mimetypes": sorted(output.data),
        "text/plain": output.data.get("text/plain"),
        "text/html": output.data.get("text/html"),
        "view": view,
        "widget": type(shown).__name__ if shown is not None else None,
        "children": [type(child).__name__ for child in getattr(shown, "children", ())],
        "description_widths": [child.style.description_width for child in getattr(shown, "children", ())
                               if isinstance(child, ipywidgets.SelectionSlider)],
    })
print(json.dumps({"version": ipywidgets.__version__, "outputs": outputs,
                  "stdout": captured.stdout, "stderr": captured.stderr}))
"""


def _ipywidgets_7() -> Path:
    """The directory holding ipywidgets 7.7.1, installed on first use."""
    if (CACHE / "ipywidgets-7.7.1.dist-info").is_dir():
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="ipywidgets-7.7.1-", dir=CACHE.parent))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--target", str(staging), *IPYWIDGETS_7],
        capture_output=True, text=True, timeout=300,
    )
    if install.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"could not install {' '.join(IPYWIDGETS_7)} from PyPI:\n{install.stdout}{install.stderr}")
    try:
        staging.rename(CACHE)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return CACHE


@pytest.mark.parametrize("version", ["7.7.1", "8"])
def test_a_slider_displays_its_static_and_live_views(version):
    env = {**os.environ, "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg"}
    if version == "7.7.1":
        env["PYTHONPATH"] = os.pathsep.join([str(_ipywidgets_7()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    run = subprocess.run([sys.executable, "-W", "error::DeprecationWarning:attnbook", "-c", PROBE],
                         capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["version"].startswith(version), f"expected ipywidgets {version}, imported {result['version']}"
    assert result["stdout"] == result["stderr"] == "", "displaying raised: " + result["stdout"][-3000:]
    assert len(result["outputs"]) == 1
    output, = result["outputs"]
    assert output["mimetypes"] == ["application/vnd.jupyter.widget-view+json", "image/png", "text/html",
                                   "text/plain"]
    assert output["text/plain"] == "Slider(slope: 3 values, offset: 2 values)"
    assert 'class="attnbook-slider"' in output["text/html"] and output["text/html"].count("<img") == 1
    view = output["view"]
    assert view["version_major"] == 2 and view["version_minor"] == 0
    assert output["widget"] == "VBox", "the view's model id must name the live widget"
    assert output["children"] == ["SelectionSlider", "SelectionSlider", "Image"]
    assert output["description_widths"] == ["initial", "initial"], "the slider's labels would be cut"
