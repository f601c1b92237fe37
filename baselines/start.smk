# Baseline "start": each study backbone as training starts from it, evaluated with the
# recipe's eval pooler (e.g. the raw [CLS] of SimCSE's recipe): the reference that says
# whether training improved the encoder (a row of every STS table, the reference line of the
# dev curves, the "gain over the untrained start" table). Runs: <results_dir>/runs/<backbone>/start/
# (hncse/workflow/baselines.py). No options. Refused for a backbone that re-draws layers
# (its start differs per seed; each run's step-0 STS-B dev is its start).

built_in_baseline("start")
