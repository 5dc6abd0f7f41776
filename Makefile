# Trellis: `make demo` and `make test` are all a newcomer needs (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench install migrate clean-demo messages messages-check

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Trellis demo district is ready: http://127.0.0.1:$(PORT)/"
	@echo "  Sign in at http://127.0.0.1:$(PORT)/accounts/login/ with password trellis-demo as:"
	@echo "    teacher@example.org    a teacher: sections, rosters, students"
	@echo "    principal@example.org  the teacher's principal: the school"
	@echo "    parent@example.org     a parent of two (one is in the teacher's class)"
	@echo "    district@example.org   district staff: every school"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Two test processes (pytest-xdist), one per core of the machines we run on: the whole suite in
# about 8 minutes on PostgreSQL with a real worker, where one process takes about twice that.
# PYTEST_ARGS= (empty) runs it in one process; PYTEST_ARGS="-n 4 -x" whatever you like.
PYTEST_ARGS ?= -n 2
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/run.py

# The Spanish catalog of what families read (needs GNU gettext): after changing a marked string,
# run this, translate the new entries in locale/es/LC_MESSAGES/django.po, and run it again. The
# compiled .mo is committed, so that `make demo` needs only Python.
messages: install
	$(BIN)/python manage.py makemessages -l es
	$(BIN)/python manage.py compilemessages -l es --ignore '.*' --ignore var
# CI: the committed .mo is compiled from its .po, and every marked string is translated in it.
messages-check: install
	TRELLIS_REQUIRE_GETTEXT=1 $(BIN)/python -m pytest -p no:cacheprovider tests/portal/test_catalogs.py

# Exactly what `make demo` made, under var/: the demo database, its generated field keys, the
# collected static files, uploads and caches. .venv and everything else stay.
DEMO_FILES := var/trellis.sqlite3 var/trellis.sqlite3-journal var/trellis.sqlite3-wal \
	var/trellis.sqlite3-shm var/field-keys.json
DEMO_DIRS := var/staticfiles var/media var/cache

clean-demo:
	rm -f $(DEMO_FILES)
	rm -rf $(DEMO_DIRS)
	@rmdir var 2>/dev/null || true
