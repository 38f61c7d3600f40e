# Two entry points used by the README's quick start and by CI (.ci/run).
#   make demo   set up, then analyze the bundled 1080p sample video (shots, scenes, report)
#   make test   set up with test extras (+ Chromium for the browser test), then run the tests
#   make test-floors   the fast tests again, against the lowest dependency versions pyproject allows
PYTHON ?= python3
VENV ?= .venv
PIP = $(VENV)/bin/pip
SAMPLE ?= sample_videos/photos_1080p.mp4
# Tests run on every logical core (pytest-xdist, one module per worker: module fixtures are made
# once); those marked serial (Chromium, Ray: wall-clock deadlines) run after, alone.
PARALLEL = -n logical --dist loadfile

.PHONY: setup setup-test chromium demo test lint test-floors

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins torch/torchvision to the builds this project is tested with.
setup: $(VENV)/bin/python
	$(PIP) install -q -c constraints.txt -e .

setup-test: $(VENV)/bin/python
	$(PIP) install -q -c constraints.txt -e '.[test,ray]'

# Headless Chromium for the report's real-browser test (Debian's package; needs root or sudo).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

demo: setup
	$(VENV)/bin/trajectory analyze $(SAMPLE) --no-model --out trajectory-out/demo

test: setup-test chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PARALLEL) -m "not serial"
	$(VENV)/bin/pytest -m serial

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Dependency floors: a second venv with the ">=" floor of every non-torch dependency (generated
# requirements), torch/torchvision borrowed from $(VENV) by symlinks and never resolved by pip
# (the project goes in with --no-deps); then the fast tests.
FLOORS_VENV ?= .venv-floors
# The fast tests, each parametrized test's first case only (every code path at the floors; the
# data cases run in make test). The ray extra's floor is not installed here.
FLOORS_TESTS = -q --one-case-each -p no:cacheprovider --ignore=tests/test_ray_engine.py
test-floors: setup-test chromium
	rm -rf $(FLOORS_VENV)
	$(VENV)/bin/python -m venv $(FLOORS_VENV)
	$(VENV)/bin/python .ci/floors.py requirements > $(FLOORS_VENV)/floors.txt
	$(VENV)/bin/python .ci/floors.py link-torch $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/pip install -q -r $(FLOORS_VENV)/floors.txt
	$(FLOORS_VENV)/bin/pip install -q --no-deps -e .
	$(FLOORS_VENV)/bin/python .ci/floors.py verify
	$(FLOORS_VENV)/bin/python -m pytest $(FLOORS_TESTS) $(PARALLEL) -m "not slow and not serial"
	$(FLOORS_VENV)/bin/python -m pytest $(FLOORS_TESTS) -m "serial and not slow"
