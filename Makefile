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

.PHONY: setup env data run test refresh benchmark clean-results

setup: env data

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name diamlib --display-name "Python (diamlib)" >/dev/null
	@touch $(STAMP)

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

run: setup
	$(PY) -m diamlib run --profile $(PROFILE)

test: setup
	$(PY) -m pytest tests --nbval-current-env --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg

# Re-execute notebooks/ in place on the smoke profile: the stored outputs that `make test` checks.
refresh: setup
	$(PY) -m diamlib refresh

benchmark: env
	$(PY) benchmarks/selection_benchmark.py
	$(PY) benchmarks/selection_quality.py

clean-results:
	rm -rf results/*/
