# Baseline "pretrained": each study backbone as it is, untrained, under several poolers
# (the SimCSE paper's "BERT [CLS]" / "BERT (first-last avg.)" rows). Runs:
# <results_dir>/runs/<backbone>/pretrained-<pooler>/ (hncse/workflow/baselines.py).
# Options (config `baselines:`):
#   pretrained: {poolers: [cls_before_pooler, avg, avg_first_last]}
# `cls_before_pooler` is the raw [CLS] state: an untrained backbone has no SimCSE MLP.
# workflow/schemas/config.schema.yaml checks the pooler names when the config is read.

built_in_baseline("pretrained")
