"""What the book tests share: where things are and how to read the book's configuration."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: The stored sweep and benchmark results, package data that the chapters read.
RESULTS = ROOT / "code" / "src" / "attnbook" / "results"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
#: `make book` (tools/build_book.py) builds each edition into its own folder under BUILD_ROOT,
#: whose index.html offers both; BUILD_HTML is the English book, BUILD_ZH the Chinese one.
BUILD_ROOT = ROOT / "_build" / "html"
BUILD_HTML = BUILD_ROOT / "en"
BUILD_ZH = BUILD_ROOT / "zh_CN"


def load_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def load_toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def load_notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def toc_files() -> list[str]:
    toc = load_toc()
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def run_script(script: str, *arguments: str) -> subprocess.CompletedProcess:
    """Run a script of the repository (path relative to its root) with this Python; it must succeed."""
    done = subprocess.run([sys.executable, str(ROOT / script), *arguments],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def load_script(script: str) -> ModuleType:
    """Import a script of the repository (path relative to its root) as a module, to call its
    ``main(argv)`` in-process. Its folder goes on ``sys.path`` first, as when Python runs it,
    so that ``experiments/*.py`` find ``experiments/_sweep.py``."""
    path = ROOT / script
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"script_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
