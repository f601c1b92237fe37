# Baseline "mixcse": MixCSE (Zhang et al., AAAI 2022), SimCSE plus one detached mixed
# negative per query, lambda·p_i + (1 - lambda)·p_(i+1); the objective is registered as
# method `mixcse` in hncse/objectives/mixcse.py, so this file only adds its runs: every
# backbone × settings × seed of the study, like a method. Options (config `baselines:`):
#   mixcse: {mixcse_lambda: 0.6}       # any training keys, applied to MixCSE's runs only


@baseline("mixcse")
def mixcse_runs(study: Study) -> list[Run]:
    options = baseline_options("mixcse")
    return [
        trained_run(backbone, "mixcse", seed, settings | options)
        for backbone in study.backbones
        for settings in study.settings
        for seed in study.seeds
    ]
