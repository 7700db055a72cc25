# firstseen: two commands on a fresh Debian machine.
#   make demo   installs, builds a small archive from real clips, checks an edited copy
#   make test   installs what tests need (ffmpeg, chromium, postgresql, redis) and runs them
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test venv lint serve

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo:
	scripts/system-deps.sh demo
	$(MAKE) venv
	$(BIN)/python scripts/demo.py

lint:
	$(BIN)/ruff check service tests bench scripts
	$(BIN)/mypy --strict service
	$(BIN)/lint-imports

test:
	scripts/system-deps.sh test
	$(MAKE) venv
	scripts/services.sh
	$(MAKE) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider
	FIRSTSEEN_TEST_DB=postgres $(BIN)/python -m pytest -q -p no:cacheprovider

serve: venv
	$(BIN)/firstseen serve
