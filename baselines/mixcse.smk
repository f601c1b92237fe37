# Baseline "mixcse": MixCSE (Zhang et al., AAAI 2022), SimCSE plus one detached mixed
# negative per query, lambda·p_i + (1 - lambda)·p_(i+1); the objective is registered as
# method `mixcse` (hncse/objectives/), so this file only adds its runs: every backbone ×
# settings × seed of the study, like a method (hncse/workflow/baselines.py). Options
# (config `baselines:`):
#   mixcse: {mixcse_lambda: 0.6}       # any training keys, applied to MixCSE's runs only

built_in_baseline("mixcse")
