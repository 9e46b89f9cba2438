"""What the book tests share: where things are and how to read the book's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
BUILD_HTML = ROOT / "_build" / "html"


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
