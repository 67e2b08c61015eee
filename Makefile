# The README's commands. Each one creates or updates the local virtual environment first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint serve bench bench-quality bench-commands bench-curve bench-robustness bench-song bench-robust-song venv clean

venv: $(STAMP)

# torch is installed first and pinned: an unpinned torch makes pip fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py --out demo_out

test: $(STAMP)
	$(BIN)/python -m pytest

# the web page and HTTP API on http://127.0.0.1:8000/ (Ctrl+C stops it)
serve: $(STAMP)
	$(BIN)/pixinwav serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

# paper-rgb vs fast-rgb at equal training (needs scripts/fetch_demo_data.sh; about 7 minutes)
bench-quality: $(STAMP)
	$(BIN)/python benchmarks/compare_quality.py --steps 1500

# wall time of `pixinwav hide` / `reveal` on a 3-minute stereo file, and every shipped model's start-up
bench-commands: $(STAMP)
	$(BIN)/python benchmarks/bench_commands.py
	$(BIN)/python benchmarks/bench_commands.py --startup --repeats 5

# the default model's image quality against audio quality, and what its stego files survive
# (need `pixinwav data fetch --dest data/debian`; under a minute each)
bench-curve: $(STAMP)
	$(BIN)/python benchmarks/modulo_curve.py

bench-robustness: $(STAMP)
	$(BIN)/python benchmarks/robustness.py

# the song model on whole songs of four sources, photos at their own size, through the CLI (about 8 minutes;
# needs `pixinwav data fetch --dest data/debian`)
bench-song: $(STAMP)
	$(BIN)/python benchmarks/song.py

# the robust song models on whole songs of four sources through 15 attacks, per source, then robust-v1 the same
# way (two processes each; about 25 minutes per model on 2 cores; needs `pixinwav data fetch --dest data/debian`);
# and their photo layers' codecs alone (under a minute)
bench-robust-song: $(STAMP)
	$(BIN)/python benchmarks/layer_codecs.py
	for m in pixinwav-robust-v5 pixinwav-robust-v4 pixinwav-robust-v3 pixinwav-robust-v2 pixinwav-robust-v1; do \
	  $(BIN)/python benchmarks/robust_song.py --model $$m --sources drascula-music,freedroidrpg-data --out /tmp/$$m-a & \
	  $(BIN)/python benchmarks/robust_song.py --model $$m --sources supertux-data,warmux-data --out /tmp/$$m-b; wait; \
	  $(BIN)/python benchmarks/robust_song.py --model $$m --merge /tmp/$$m-a.json /tmp/$$m-b.json; done

clean:
	rm -rf $(VENV) demo_out runs
