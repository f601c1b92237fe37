"""Study planning for the Snakemake workflow (docs/workflow.md): a workflow config becomes
runs, their jobs' arguments and the study spec of `hncse aggregate`, without Snakemake and
without torch, so that planning a DAG takes seconds and every rule is unit-tested.

``plan``: studies, settings expansion, run naming, evaluation merging, the study spec.
``runs``: a run and its evaluation as the jobs see them (their arguments, run.json).
``baselines``: the runs of the built-in baselines (baselines/*.smk switch them on).
"""
