# Thin aliases; the scripts hold the logic (they also work without make).
.PHONY: repro test unit recipe evaluate style dag

repro:            ## run the pipeline (embedded default as committed) and show metrics
	bash scripts/repro.sh

test:             ## unit + integration tests
	bash scripts/test.sh

unit:             ## unit tests only (under a minute)
	bash scripts/test.sh tests/unit

recipe:           ## make recipe RECIPE=recipes/Qwen2.5-1.5B-Instruct/math.yaml
	uv run --frozen --no-sync python -m r1.recipe apply $(RECIPE)

evaluate:         ## make evaluate MODEL=sft TASK=aime24
	dvc repro evaluate@$(MODEL)-$(TASK)

style:
	uv run --frozen --no-sync ruff check src stages tests benchmarks
	uv run --frozen --no-sync ruff format --check src stages tests benchmarks

dag:
	dvc dag
