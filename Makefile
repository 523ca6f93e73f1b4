# Thin aliases for the launcher; ./switchboard is the real interface (see README.md).
.PHONY: run test stack-up stack-down stack-status lint ci

run:
	./switchboard run

test:
	./switchboard test

stack-up:
	./switchboard stack up

stack-down:
	./switchboard stack down

stack-status:
	./switchboard stack status

lint:
	./switchboard setup
	$${SWITCHBOARD_VENV:-.venv}/bin/ruff format --check .
	$${SWITCHBOARD_VENV:-.venv}/bin/ruff check .

ci:
	.ci/run
