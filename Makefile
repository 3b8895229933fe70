# Everything bootstraps itself: a private copy of uv in .tools/, the project in .venv/ from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
SYNCED := $(VENV)/.synced
# Never download a Python: use the one on the machine.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run seed test lint format bench clean

# compileall: the project's own modules (installed editable, so not compiled by uv) are
# compiled when they changed; 0.1 s when none did, 0.5 s saved at each start otherwise.
run: $(SYNCED)
	@$(VENV)/bin/python -m compileall -q src
	$(VENV)/bin/townsquare run

# ARGS: options of `townsquare seed` (--help), e.g. make seed ARGS=--append
seed: $(SYNCED)
	$(VENV)/bin/townsquare seed $(ARGS)

test: $(SYNCED)
	$(VENV)/bin/pytest

# The load benchmark (bench/run.py): SIZE=small takes a few minutes, SIZE=large loads 1M posts once.
# DATABASE_URL picks the PostgreSQL server; without it an embedded one of the benchmark's own.
# BENCH_ARGS: more options of bench/run.py (--help), e.g. BENCH_ARGS=--keep-work.
SIZE ?= small
bench: $(SYNCED)
	$(VENV)/bin/python bench/run.py --size $(SIZE) $(BENCH_ARGS)

lint: $(SYNCED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict src tests bench deploy
	$(VENV)/bin/lint-imports  # the package boundaries (pyproject.toml, ARCHITECTURE.md)

format: $(SYNCED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every start after this one reads compiled modules, also where
# PYTHONDONTWRITEBYTECODE keeps Python from caching them (a warm `make run` in 8 s instead of 3).
$(SYNCED): $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

clean:
	rm -rf $(TOOLS) $(VENV) .mypy_cache .pytest_cache .ruff_cache
