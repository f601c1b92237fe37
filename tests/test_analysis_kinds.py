"""The analysis kinds are declared once; the workflow's config schema offers exactly them."""

from __future__ import annotations

from pathlib import Path

import yaml

from hncse.analysis.dispatch import ANALYSES
from hncse.analysis.kinds import KINDS, report_order
from hncse.analysis.sections import ORDER
from hncse.analysis.studies import analysis_names, parse_studies

REPO = Path(__file__).resolve().parent.parent


def test_schema_offers_the_registered_analyses() -> None:
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    study = schema["properties"]["studies"]["additionalProperties"]["properties"]
    assert tuple(study["analysis"]["enum"]) == analysis_names() == tuple(KINDS)


def test_every_kind_has_its_function() -> None:
    assert tuple(ANALYSES) == tuple(KINDS)


def test_each_kind_opens_a_section_of_the_report_order() -> None:
    order = report_order()
    for kind in KINDS.values():
        assert kind.section in order, kind
    assert order[: len(ORDER)] == ORDER


def test_a_study_sweeps_its_kinds_axes_unless_told() -> None:
    studies = parse_studies(
        {
            "t": {"analysis": "tau"},
            "g": {"analysis": "grid_km"},
            "x": {"analysis": "theta", "x": ["pm_w1"]},
        },
        "test",
    )
    assert [s.swept for s in studies] == [("temperature",), ("k", "m"), ("pm_w1",)]
