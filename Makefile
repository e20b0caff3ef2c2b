# Two entry points (see README.md):
#   make run    set up if needed, then execute every notebook on the `default` profile
#   make test   set up if needed, then run the unit tests and nbval over the notebooks
# Set-up is idempotent: a second call skips what is already done.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.diamlib-installed
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist
PROFILE ?= default
# The installer and the lock tool are pinned too, so that a set-up repeats.
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.7.0
LOCK := requirements.lock

.PHONY: setup env data labelstudio run test refresh benchmark lock clean-results

setup: env data

env: $(STAMP)

# Every package at the exact version of the lock file (the core and every extra of
# pyproject.toml), then diamlib itself (editable, no dependency resolution): the same
# environment on every machine.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name diamlib --display-name "Python (diamlib)" >/dev/null
	@touch $(STAMP)

# Re-resolve the lock from pyproject.toml's ranges with pip-compile (pip-tools): the core and
# every extra (networks, reference, suite, dev), so that `make` installs everything; new
# dependencies are added and existing pins kept; `make lock UPGRADE=1` moves every package to
# its newest allowed version. Then re-run what the README's "Same numbers" section lists.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION)
	$(VENV)/bin/pip-compile --quiet --all-extras --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file $(LOCK) pyproject.toml

# Label Studio (the labelling tool of the round-trip test) in a virtual environment of its own:
# its Django dependencies do not resolve together with the lock. Skipped once installed.
LS_VENV  := .venv-labelstudio
LS_STAMP := $(LS_VENV)/.labelstudio-installed

labelstudio: $(LS_STAMP)

$(LS_STAMP): requirements-labelstudio.txt
	@test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	$(LS_VENV)/bin/python -m pip install --quiet -r requirements-labelstudio.txt
	@touch $(LS_STAMP)

# Real Fashion-MNIST from Debian's dataset-fashion-mnist package (installed when running as
# root on a Debian/Ubuntu machine; otherwise set data_root in a profile, or download: true).
data:
	@if [ -d $(FASHION_MNIST_DIR) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian package dataset-fashion-mnist"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
		echo "note: $(FASHION_MNIST_DIR) is missing; install Debian's dataset-fashion-mnist (as root) for the default profile"; \
	fi

# The main job; on the default profile, the README's verdict is then copied from its record.
run: setup
	$(PY) -m diamlib run --profile $(PROFILE)
	$(if $(filter default,$(PROFILE)),$(PY) tools/readme_verdict.py)

test: setup labelstudio
	$(PY) -m pytest tests --nbval-current-env --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg

# Re-execute notebooks/ in place on the smoke profile: the stored outputs that `make test` checks.
refresh: setup
	$(PY) -m diamlib refresh

benchmark: env
	$(PY) benchmarks/selection_benchmark.py
	$(PY) benchmarks/selection_quality.py
	$(PY) benchmarks/recorder_memory.py

clean-results:
	rm -rf results/*/
