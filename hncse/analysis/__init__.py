"""Analysis of a results folder: the tidy results table, summary tables, statistics,
figures, claim verdicts and the embedding-space study (see ``docs/analysis.md``).

Pipeline: :func:`hncse.analysis.collect.collect` reads every run folder into one tidy table;
:func:`hncse.analysis.dispatch.run_studies` turns it into report sections (tables, tests,
figures, verdicts) per study of the study spec (:mod:`hncse.analysis.studies`).
"""
