# The two commands in the README: `make run` and `make test`. Both do every
# set-up step themselves (virtualenv, pinned install, model training when its
# inputs changed), so a fresh clone needs nothing else.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup lint train validate pytest e2e browser nginx lock clean

run: setup
	$(BIN)/kepu run

test: setup browser nginx lint train validate pytest e2e

setup:
	@scripts/bootstrap.sh

browser:
	@scripts/install-browser.sh

# The production-profile tests drive the real nginx in front of two Rasa processes.
nginx:
	@scripts/install-nginx.sh

train: setup
	$(BIN)/kepu train

# Types: mypy over bot/ and actions/ (settings in pyproject.toml, [tool.mypy]).
lint: setup
	$(BIN)/ruff check bot actions tests bench
	$(BIN)/ruff format --check bot actions tests bench
	$(BIN)/mypy

validate: setup
	$(BIN)/rasa data validate --config config.yml --domain bot/domain --data nlu_data --fail-on-warnings

# Under coverage (branch; config in pyproject.toml, [tool.coverage.*]), the
# processes the tests start included; the report is printed whatever pytest
# says, and the step fails exactly when pytest fails. Two workers (pytest-xdist),
# one per core; tests/conftest.py groups the tests so that the ones starting the
# whole service run one after another. `make pytest TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 2
pytest: setup
	$(BIN)/python -m coverage erase
	status=0; $(BIN)/python -m coverage run -m pytest -p no:cacheprovider -q -rs --durations=15 --instafail \
		--numprocesses=$(TEST_WORKERS) --dist=loadgroup || status=$$?; \
	$(BIN)/python -m coverage combine -q; \
	$(BIN)/python -m coverage report; \
	exit $$status

# End-to-end test stories (user text -> NLU -> dialogue), through the trained model.
e2e: train
	$(BIN)/kepu test-stories

lock:
	@scripts/bootstrap.sh
	{ head -2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^kepu'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf var/results .pytest_cache .mypy_cache
