# Baseline "pretrained": each study backbone as it is, untrained, under several poolers
# (the SimCSE paper's "BERT [CLS]" / "BERT (first-last avg.)" rows). Runs:
# <results_dir>/runs/<backbone>/pretrained-<pooler>/. Options (config `baselines:`):
#   pretrained: {poolers: [cls_before_pooler, avg, avg_first_last]}
# `cls_before_pooler` is the raw [CLS] state: an untrained backbone has no SimCSE MLP.
# workflow/schemas/config.schema.yaml checks the pooler names when the config is read.

PRETRAINED_POOLERS = ["cls_before_pooler", "avg", "avg_first_last"]


@baseline("pretrained")
def pretrained_runs(study: Study) -> list[Run]:
    poolers = baseline_options("pretrained").get("poolers", PRETRAINED_POOLERS)
    return [
        encoder_run(
            backbone,
            f"pretrained-{pooler}",
            shlex.join(["--model", config["backbones"][backbone]["model"], "--pooler", pooler]),
            {"pooler": pooler},
        )
        for backbone in study.backbones
        for pooler in poolers
    ]
