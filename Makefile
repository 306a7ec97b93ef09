# make demo: colorize the bundled sample pair.  make test: the whole suite.  Both start from a fresh clone.
VENV ?= .venv
PY := $(VENV)/bin/python
SAMPLES := runtime/samples
DEMO_OUT := demo

.PHONY: install demo test clean android-deps apk test-arm64 gpu-train long-train

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

# On a lent GPU machine, whose python3 holds CUDA torch and can fetch nothing: measure the training step under
# each speed option (benchmarks/train_speed.py, a few minutes), then train with the fastest for GPU_MINUTES
# in this call, its iterations set so the learning-rate schedule ends after GPU_TOTAL_MINUTES. The plan is kept
# in GPU_RUN, so the same command (with GPU_RUN carried back) resumes the run: a call may last 10 minutes, so
# the first one trains about 5. Carry the texture set, built small enough to travel:
#   python -m dualcam.model.textures build runs/textures288 --max-side 288   (38 MB: with the tree and a
# checkpoint it stays under the 64 MiB a call carries)
# The package is put on the path by links, not installed, so no build tool is needed there. tests/test_train.py
# runs this target on the CPU (tiny preset, two variants), so it is known to work before a GPU is lent.
GPU_PY ?= python3
GPU_RUN ?= runs/gpu
GPU_MINUTES ?= 5
GPU_TOTAL_MINUTES ?= $(GPU_MINUTES)
GPU_SHAPE ?= --preset mobile --batch 8 --crop 256x512
GPU_WORKERS ?= 14
GPU_SPEED ?= --steps 10
GPU_TRAIN ?= --init model/weights/mobile.pt --lr 5e-4 --seed 3 --textures runs/textures288 --ckpt-every 200
GPU_SITE := /tmp/dualcam-site

gpu-train:
	mkdir -p $(GPU_SITE)/dualcam $(GPU_RUN)
	for part in model export runtime benchmarks; do ln -sfn $(CURDIR)/$$part $(GPU_SITE)/dualcam/$$part; done
	test -s $(GPU_RUN)/plan.txt || { \
	  PYTHONPATH=$(GPU_SITE) $(GPU_PY) benchmarks/train_speed.py $(GPU_SHAPE) --workers $(GPU_WORKERS) $(GPU_SPEED) \
	    --out $(GPU_RUN)/train_speed.json && \
	  PYTHONPATH=$(GPU_SITE) $(GPU_PY) benchmarks/train_speed.py --plan $(GPU_RUN)/train_speed.json \
	    --minutes $(GPU_TOTAL_MINUTES) > $(GPU_RUN)/plan.txt; }
	PYTHONPATH=$(GPU_SITE) $(GPU_PY) -m dualcam.model.train $(GPU_SHAPE) $(GPU_TRAIN) $$(cat $(GPU_RUN)/plan.txt) \
	  --workers $(GPU_WORKERS) --minutes $(GPU_MINUTES) --out $(GPU_RUN)

# One long CPU schedule instead of warm restarts: the cosine runs over LONG_ITERS, each call trains LONG_MINUTES and
# checkpoints, the same command resumes (dualcam-train logs the validation CPSNR at every resume and every
# LONG_VAL_EVERY steps in LONG_RUN/log.jsonl). TEXTURES: `python -m dualcam.model.textures build DIR`; REAL_PAIRS:
# folders of labelled real colour stereo pairs (left.png, right.png); VAL_PAIRS: pairs it never trains on. float32
# with channels-last is the fastest step measured on a 2-core CPU (benchmarks/results/train_speed_cpu_avx2.md) and
# keeps the numbers alike on every CPU; the spread input is what this schedule is to teach the network to use.
LONG_RUN ?= runs/long
LONG_MINUTES ?= 60
LONG_ITERS ?= 20000
LONG_VAL_EVERY ?= 2000
LONG_TRAIN ?= --preset mobile --set residue_sees_spread=true --init model/weights/mobile.pt --lr 2e-4 --batch 4 \
	--crop 128x256 --seed 40 --camera realistic --real-fraction 0.5 --workers 1 --threads 2 --no-bf16 --channels-last \
	--ckpt-every 50

long-train: install
	test -n "$(TEXTURES)" -a -n "$(REAL_PAIRS)" -a -n "$(VAL_PAIRS)" || \
	  { echo "long-train needs TEXTURES=DIR REAL_PAIRS='DIR ...' VAL_PAIRS=DIR" >&2; exit 2; }
	$(VENV)/bin/dualcam-train $(LONG_TRAIN) --iters $(LONG_ITERS) --textures $(TEXTURES) --real-pairs $(REAL_PAIRS) \
	  --val-dir $(VAL_PAIRS) --val-every $(LONG_VAL_EVERY) --minutes $(LONG_MINUTES) --out $(LONG_RUN)

clean:
	rm -rf $(VENV) $(DEMO_OUT) *.egg-info
