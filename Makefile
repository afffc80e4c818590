# Thin aliases; the scripts hold the logic (they also work without make).
.PHONY: repro test unit recipe evaluate plots style dag
PYTHON ?= uv run --frozen --no-sync python

repro:            ## run the pipeline (embedded default as committed) and show metrics
	bash scripts/repro.sh

test:             ## unit + integration tests
	bash scripts/test.sh

unit:             ## unit tests only (under a minute)
	bash scripts/test.sh tests/unit

recipe:           ## make recipe RECIPE=recipes/Qwen2.5-1.5B-Instruct/math.yaml
	uv run --frozen --no-sync python -m r1.recipe apply $(RECIPE)

# MODEL: a pipeline or external model's name (runs `dvc repro evaluate@MODEL-TASK`), or a Hub id
# or local folder (an ad-hoc run outside DVC, results in outputs/adhoc/); see r1.evaluation.adhoc.
evaluate:         ## make evaluate MODEL=sft|<Hub id>|<folder> TASK=aime24 [PARALLEL=data|tensor NUM_GPUS=8]
	$(PYTHON) -m r1.evaluation.adhoc --model "$(MODEL)" --task "$(TASK)" \
		--parallel "$(PARALLEL)" --num-gpus "$(NUM_GPUS)"

# The training curves without network (scripts/repro.sh runs it too): see r1.plots.
plots:            ## reports/plots/*.svg and dvc_plots/index.html, drawn offline
	$(PYTHON) -m r1.plots

style:
	uv run --frozen --no-sync ruff check src stages tests benchmarks
	uv run --frozen --no-sync ruff format --check src stages tests benchmarks

dag:
	dvc dag
