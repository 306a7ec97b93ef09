# make demo: colorize the bundled sample pair.  make test: the whole suite.  Both start from a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python
SAMPLES := runtime/samples
DEMO_OUT := demo

.PHONY: install demo test clean android-deps apk test-arm64

install: $(VENV)/.installed

# torch==2.13.0 is the CPU build this project is pinned to (see pyproject.toml); pip finds it first.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[train,export,bench,dev]'
	touch $@

demo: install
	mkdir -p $(DEMO_OUT)
	$(VENV)/bin/dualcam-run $(SAMPLES)/motorcycle_mono.png $(SAMPLES)/motorcycle_color.png -o $(DEMO_OUT)/motorcycle.color.png

test: install android-deps
	$(PY) -m pytest -q

# The Android demo's toolchain (Debian packages; instant when present), a debug APK built without Gradle, and the
# int8 model on arm64 kernels under emulation (slow, not part of `make test`): android_demo/README.md.
android-deps:
	$(MAKE) -s -C android_demo deps

apk: install android-deps
	$(MAKE) -C android_demo apk PY=$(abspath $(PY))

test-arm64: install android-deps
	$(MAKE) -C android_demo test-arm64 PY=$(abspath $(PY))

clean:
	rm -rf $(VENV) $(DEMO_OUT) *.egg-info
