# Two commands on a fresh machine: `make book` builds the HTML book, in English and in Chinese (and a zip of both),
# `make test` runs every test. `make po` updates the Chinese edition's catalogs (locale/zh_CN) from the English text.
# `make execute` re-runs the notebooks in place so their stored outputs are the ones nbval checks.
# `make lab` starts JupyterLab (with MyST rendering) on the chapters, on the book's environment.

PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard chapters/*.ipynb)

# The venv's own "python3" kernel wins over any user-wide kernel of that name.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book pot po test test-unit test-integration test-notebooks execute install lab chromium clean

# The browser tests drive Debian's Chromium; install it through apt when it is missing, and a
# Chinese font (Noto CJK) for the Chinese edition's screenshots when fc-list finds none.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)

$(STAMP): requirements.txt code/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch before anything that depends on it, or pip may pick another build
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e code
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $(STAMP)

LAB_STAMP := $(VENV)/.lab-installed
LAB_ARGS ?=
# Jupyter refuses to run as root (a container) without being told.
LAB_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

# requirements.txt as constraints: the lab extras cannot move the book's own pins.
$(LAB_STAMP): $(STAMP) requirements-lab.txt
	$(PY) -m pip install --quiet -r requirements-lab.txt -c requirements.txt
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/lab/tree/chapters $(LAB_ROOT) $(LAB_ARGS)

# Both editions side by side, _build/html/en/ and _build/html/zh_CN/, each with warnings as errors,
# and _build/html/index.html offering both (tools/build_book.py); then packs the HTML into one zip
# for reading offline: unpack it, open index.html.
BOOK_ZIP := _build/attention-interactively-html.zip

book: $(STAMP)
	$(PY) tools/build_book.py
	$(PY) tools/zip_book.py _build/html $(BOOK_ZIP)
	@echo "Open $(CURDIR)/_build/html/index.html, or unpack $(CURDIR)/$(BOOK_ZIP) and open its index.html"

# The English messages of every page, one template per page, in _build/gettext/.
pot: $(STAMP)
	$(PY) tools/build_book.py gettext

# Merge them into locale/zh_CN/LC_MESSAGES/<page>.po (new: untranslated, changed: fuzzy);
# `make po PAGES="glossary intro"` updates only those pages' catalogs.
PAGES ?=
po: pot
	$(PY) tools/update_catalogs.py $(PAGES)

test: $(STAMP) chromium
	$(PY) -m pytest

# One tier each (markers given in tests/conftest.py); `make test` is all three.
# test-unit collects no notebook, so nbval runs nothing: under a minute on two cores.
# PYTEST_ARGS passes more options, e.g. `make test-unit PYTEST_ARGS="-x --durations=10"`.
PYTEST_ARGS ?=

test-unit: $(STAMP)
	$(PY) -m pytest -m unit $(PYTEST_ARGS) tests

test-integration: $(STAMP) chromium
	$(PY) -m pytest -m integration $(PYTEST_ARGS) tests

test-notebooks: $(STAMP)
	$(PY) -m pytest -m notebooks $(PYTEST_ARGS) chapters

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "Installing Debian's fonts-noto-cjk for the Chinese edition's screenshots"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y fonts-noto-cjk; }

execute: $(STAMP)
	$(PY) tools/execute_notebooks.py $(NOTEBOOKS)

# _build holds the HTML, the zip of it ($(BOOK_ZIP)) and the build caches.
clean:
	rm -rf _build test-artifacts
