# Two commands on a fresh machine: `make book` builds the HTML book, `make test` runs every test.
# `make execute` re-runs the notebooks in place so their stored outputs are the ones nbval checks.

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

.PHONY: book test execute install clean

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

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(PY) -m pytest

execute: $(STAMP)
	$(PY) tools/execute_notebooks.py $(NOTEBOOKS)

clean:
	rm -rf _build test-artifacts
