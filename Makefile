# Thin aliases for the launcher; ./switchboard is the real interface (see README.md).
.PHONY: run test stack-up stack-down stack-status lint ci messages

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

# German and Spanish catalogues: extract (msgids only, no line numbers), then compile the .mo files that are committed
messages:
	$${SWITCHBOARD_VENV:-.venv}/bin/python manage.py makemessages -l de -l es --no-obsolete
	$${SWITCHBOARD_VENV:-.venv}/bin/python manage.py makemessages -d djangojs -l de -l es --no-obsolete
	$${SWITCHBOARD_VENV:-.venv}/bin/python manage.py compilemessages -l de -l es -i .venv -i var
