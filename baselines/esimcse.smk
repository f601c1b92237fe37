# Baseline "esimcse": ESimCSE (Wu et al., COLING 2022): word repetition for the positive and
# a momentum encoder filling a queue of negatives, written on the method interface
# (hncse/objectives/esimcse.py, docs/methods.md). Its runs: every backbone × settings × seed
# of the studies that list it (`baselines: [esimcse]`), like a method. Options (config
# `baselines:`), training keys applied to ESimCSE's runs only:
#   esimcse: {dup_rate: 0.32, momentum: 0.995, queue_ratio: 2.5}   # the paper's values

built_in_baseline("esimcse")
