"""The SentEval readers on the real data (protocol counts) and on broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hncse.data_root import DataNotFoundError
from hncse.evaluation import TASK_SPECS, resolve_tasks
from hncse.evaluation.cli import add_arguments, run
from hncse.evaluation.reading import DataFormatError


@pytest.fixture(scope="module")
def senteval(data_root: Path) -> Path:
    return data_root / "senteval" / "downstream"


def test_sts_counts_match_the_protocol(senteval: Path) -> None:
    totals = {"STS12": 3108, "STS13": 1500, "STS14": 3750, "STS15": 3000, "STS16": 1186}
    for name, total in totals.items():
        task = TASK_SPECS[name].load(senteval)
        assert sum(len(pairs) for pairs in task.subsets.values()) == total, name
    sts13 = TASK_SPECS["STS13"].load(senteval).subsets
    assert {k: len(v) for k, v in sts13.items()} == {"FNWN": 189, "headlines": 750, "OnWN": 561}


def test_cosine_task_counts_and_parsing(senteval: Path) -> None:
    stsb = TASK_SPECS["STSBenchmark"].load(senteval).splits
    sick = TASK_SPECS["SICKRelatedness"].load(senteval).splits
    assert {k: len(v) for k, v in stsb.items()} == {"train": 5749, "dev": 1500, "test": 1379}
    assert {k: len(v) for k, v in sick.items()} == {"train": 4500, "dev": 500, "test": 4927}
    assert stsb["dev"].first[0] == "a man with a hard hat is dancing ."
    assert stsb["dev"].gold[0] == 5.0
    assert sick["train"].gold[0] == 4.5  # the header line is skipped
    assert sick["test"].gold.min() >= 1.0


def test_transfer_counts_and_senteval_order(senteval: Path) -> None:
    sizes = {"MR": (10662, 5331), "CR": (3775, 2407), "SUBJ": (10000, 5000), "MPQA": (10606, 3312)}
    for name, (total, positives) in sizes.items():
        data = TASK_SPECS[name].load(senteval).data
        assert len(data) == total and int(data.labels.sum()) == positives, name
        lengths = [len(s.split()) for s in data.sentences]
        keys = list(zip(lengths, data.labels.tolist(), strict=True))
        assert keys == sorted(keys), f"{name} is not in (length, label) order"
    sst = TASK_SPECS["SST2"].load(senteval).splits
    assert {k: len(v) for k, v in sst.items()} == {"train": 67349, "dev": 872, "test": 1821}
    trec = TASK_SPECS["TREC"].load(senteval)
    assert (len(trec.train), len(trec.test)) == (5452, 500)
    assert set(np.unique(trec.train.labels)) == set(range(6))
    mrpc = TASK_SPECS["MRPC"].load(senteval)
    assert (len(mrpc.train), len(mrpc.test)) == (4076, 1725)
    assert len(mrpc.sentences()) == 2 * (4076 + 1725)


def test_cr_keeps_empty_lines_as_samples_like_senteval(senteval: Path) -> None:
    assert TASK_SPECS["CR"].load(senteval).data.sentences.count("") == 4


def test_resolve_tasks() -> None:
    assert resolve_tasks("sts")[-2:] == ["STSBenchmark", "SICKRelatedness"]
    assert len(resolve_tasks("sts,transfer")) == 14
    assert resolve_tasks("mrpc,STS12,transfer")[:3] == ["MRPC", "STS12", "MR"]
    with pytest.raises(ValueError, match="unknown task or group 'STS17'"):
        resolve_tasks("STS17")


def test_the_catalogue_and_the_task_families_list_the_same_tasks() -> None:
    from hncse.evaluation import tasks
    from hncse.evaluation.catalogue import GROUPS

    specs = [
        spec.name
        for family in (tasks.sts, tasks.sts_cosine, tasks.binary, tasks.sst, tasks.trec, tasks.mrpc)
        for spec in family.SPECS
    ]
    assert sorted(specs) == sorted(TASK_SPECS) == sorted(GROUPS["sts"] + GROUPS["transfer"])


def _copy(senteval: Path, tmp_path: Path, *folders: str) -> Path:
    """A data root holding copies of some SentEval folders, to break."""
    target = tmp_path / "data" / "senteval" / "downstream"
    for folder in folders:
        shutil.copytree(senteval / folder, target / folder)
    return target


def _edit_line(path: Path, line: int, edit) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def test_truncated_gold_file_names_file_and_line(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "STS/STS16-en-test")
    gold = copy / "STS/STS16-en-test/STS.gs.headlines.txt"
    gold.write_text("\n".join(gold.read_text().splitlines()[:1000]) + "\n")
    with pytest.raises(
        DataFormatError,
        match=r"STS\.gs\.headlines\.txt, line 1001: expected "
        r"1498 lines, found 1000",
    ):
        TASK_SPECS["STS16"].load(copy)


def test_wrong_column_count_names_file_and_line(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "SICK")
    _edit_line(copy / "SICK/SICK_trial.txt", 10, lambda text: text.replace("\t", " ", 1))
    with pytest.raises(
        DataFormatError,
        match=r"SICK_trial\.txt, line 10: expected 5 "
        "tab-separated columns, found 4",
    ):
        TASK_SPECS["SICKRelatedness"].load(copy)


def test_non_numeric_score_names_file_and_line(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "STS/STSBenchmark")

    def break_score(text: str) -> str:
        fields = text.split("\t")
        fields[4] = "high"
        return "\t".join(fields)

    _edit_line(copy / "STS/STSBenchmark/sts-test.csv", 7, break_score)
    with pytest.raises(
        DataFormatError,
        match=r"sts-test\.csv, line 7: score 'high' is not a "
        "number",
    ):
        TASK_SPECS["STSBenchmark"].load(copy)


def test_out_of_range_gold_and_bad_label(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "STS/STS12-en-test", "TREC")
    _edit_line(copy / "STS/STS12-en-test/STS.gs.MSRvid.txt", 3, lambda _: "7.5")
    with pytest.raises(
        DataFormatError,
        match=r"STS\.gs\.MSRvid\.txt, line 3: gold score 7\.5 "
        r"is outside \[0\.0, 5\.0\]",
    ):
        TASK_SPECS["STS12"].load(copy)
    path = copy / "TREC/TREC_10.label"
    path.write_bytes(path.read_bytes().replace(b"NUM:", b"NUMBER:", 1))
    with pytest.raises(DataFormatError, match=r"TREC_10\.label, line 1: label 'NUMBER'"):
        TASK_SPECS["TREC"].load(copy)


def test_truncated_transfer_file(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "MR")
    path = copy / "MR/rt-polarity.neg"
    path.write_bytes(b"\n".join(path.read_bytes().split(b"\n")[:5000]))
    with pytest.raises(
        DataFormatError,
        match=r"rt-polarity\.neg, line 5001: expected 5331 "
        "sentences, found 5000",
    ):
        TASK_SPECS["MR"].load(copy)


def test_missing_task_folder_says_how_to_get_it(senteval: Path, tmp_path: Path) -> None:
    copy = _copy(senteval, tmp_path, "CR")
    with pytest.raises(
        DataNotFoundError,
        match=r"MR: folder .*MR not found.*hncse download "
        "senteval",
    ):
        TASK_SPECS["MR"].load(copy)


def test_cli_writes_nothing_on_bad_input(
    senteval: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    copy = _copy(senteval, tmp_path, "STS/STS13-en-test", "SICK")
    _edit_line(copy / "SICK/SICK_test_annotated.txt", 42, lambda text: text + "\textra")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "out" / "eval.json"
    args = parser.parse_args(
        [
            "--encoder",
            "glove",
            "--tasks",
            "STS13,SICKRelatedness",
            "--data-dir",
            str(copy.parents[1]),
            "--out",
            str(out),
            "--no-cache",
            "--no-progress",
        ]
    )
    assert run(args) == 2
    assert "SICK_test_annotated.txt, line 42: expected 5 tab-separated columns, found 6" in (
        capsys.readouterr().err
    )
    assert not out.exists() and not (tmp_path / "out" / "eval.pairs.parquet").exists()
