# The two commands of the README are `make demo` and `make check`; both set everything up first.
BIN := .venv/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup demo check lint format typecheck test bench down

setup:
	@bash scripts/setup.sh

## Bring the local stack up with the demo world, then talk to Vigie: the `Ops>` prompt on a
## terminal; otherwise (CI, a pipe) the two reference answers. `vigie devstack demo` still shows
## the raw backends answering.
demo: setup
	$(BIN)/vigie devstack up
	$(BIN)/vigie chat

## Lint, type-check and run every test (integration tests bring the devstack up on demand).
check: setup lint typecheck test

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck:
	$(BIN)/mypy

test:
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/devstack_start.py

down:
	$(BIN)/vigie devstack down
