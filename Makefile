# Two commands on a fresh machine: `make run` (serve) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-fast eval system-deps bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python $(VENV)/share/kokoro-js/package/voices
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python $(VENV)/share/kokoro-js/package/voices
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# Kokoro's voices: the npm package kokoro-js (Apache-2.0), its voices/ folder only (no install of
# its JavaScript dependencies). Without npm, Reader starts without Kokoro and says so.
$(VENV)/share/kokoro-js/package/voices: | $(BIN)/python
	@mkdir -p $(VENV)/share/kokoro-js
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(VENV)/share/kokoro-js && npm pack kokoro-js@1.2.1 --silent >/dev/null \
	  && tar xzf kokoro-js-1.2.1.tgz package/voices package/LICENSE package/package.json && rm kokoro-js-1.2.1.tgz; \
	else echo "npm is not installed: Kokoro's voices are left out"; fi

run: $(VENV)/.installed
	@command -v tesseract >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then \
	  echo "Installing Tesseract for text recognition of scanned pages"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr >/dev/null \
	  || echo "Tesseract could not be installed: scanned pages will be refused"; fi; }
	$(BIN)/reader serve --host $(HOST) --port $(PORT)

# Debian packages the tests use: Chromium for the browser tests (Playwright cannot download
# browsers here), nginx for the tested reverse-proxy config, util-linux for mount namespaces,
# ffprobe (ffmpeg) to read chapters back, EPUBCheck (with its Java) to validate EPUBs, and
# redis-server for the tests of many hosts, wrk for the nginx benchmark, and Tesseract (with its
# English and French packs) for text recognition of scanned pages.
SYSTEM_DEPS := chromium:chromium nginx:nginx unshare:util-linux ffprobe:ffmpeg epubcheck:epubcheck redis-server:redis-server \
	wrk:wrk tesseract:tesseract-ocr /usr/share/tesseract-ocr/5/tessdata/fra.traineddata:tesseract-ocr-fra
system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${pair%%:*} ] || [ -e $${pair%%:*} ] \
	    || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for the tests:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# The whole suite: lint, types, the layers, then every test but the evaluation ones (they need
# ../shared), two test files at a time (each file's servers on ports and data dirs of their own).
JOBS ?= 2
test: $(VENV)/.installed-test system-deps lint
	READER_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m "not eval" -n $(JOBS) --dist loadfile

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not browser and not slow and not eval" -n $(JOBS) --dist loadfile

# Tests and benchmarks on the evaluation data in ../shared/eval (real pages, PDFs, recordings).
eval: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m eval -n $(JOBS) --dist loadfile
	$(BIN)/python bench/segment.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/spoken.py
	$(BIN)/python bench/word_timing.py
	$(BIN)/python bench/live_dictation.py
	$(BIN)/reader eval dictation ../shared/eval/speech --noise white,babble --snr 20,10,5,0 --out artifacts/eval -q
	$(BIN)/reader eval voices --out artifacts/eval -q
	$(BIN)/reader eval cost --out artifacts/eval -q

bench: $(VENV)/.installed-test
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/segment.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/cloud.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/narration.py
	$(BIN)/python bench/word_timing.py
	$(BIN)/python bench/nginx.py
	$(BIN)/python bench/ocr.py
	$(BIN)/python bench/kokoro.py
	$(BIN)/python bench/live_dictation.py
	$(BIN)/python bench/play_latency.py
	$(BIN)/python bench/commands.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check reader tests bench wsgi.py
	$(BIN)/mypy --strict
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache artifacts
