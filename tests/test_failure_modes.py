"""Issue 9: bad inputs, faults and interruptions. One test (or a few) per defect found; each
failed on the code before its fix. Numbers refer to the issue's list (docs/failure-modes.md)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import psutil
import pytest
import torch
import yaml
from conftest import (
    REPO,
    copy_workflow,
    load_yaml,
    output_of,
    snakemake,
    tiny_run,
    write_config,
)

from hncse import HncseError, checkpoint, files
from hncse.cli import main
from hncse.config import ConfigError, load_config, parse_overrides
from hncse.data import CorpusError, LineCorpus
from hncse.data_root import DataNotFoundError
from hncse.evaluation import encoding
from hncse.evaluation.encoding import EmbeddingCache, embed_tasks, function_source
from hncse.evaluation.results import EvaluationResult
from hncse.model import SentenceEncoder
from hncse.trainer import Trainer


def manifest_mismatches(root: Path) -> list[str]:
    """Files of ``root``'s MANIFEST.sha256 that are missing or changed."""
    bad = []
    for line in (root / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        path = root / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(name)
    return bad


@pytest.fixture
def data_copy(tmp_path: Path, data_root: Path) -> Path:
    """A writable copy of the real data root, with SimCSE's wiki1m file (the head sample
    under its name) listed in its manifest, so that both download rules are in play."""
    copy = tmp_path / "data"
    shutil.copytree(data_root, copy)
    wiki1m = copy / "corpora" / "wiki1m_for_simcse.txt"
    shutil.copy(copy / "corpora" / "wiki1m_head.txt", wiki1m)
    with (copy / "MANIFEST.sha256").open("a") as manifest:
        digest = hashlib.sha256(wiki1m.read_bytes()).hexdigest()
        manifest.write(f"{digest}  ./corpora/wiki1m_for_simcse.txt\n")
    return copy


# ------------------------------------------------------------ 1. forced reruns and the data
@pytest.mark.workflow
@pytest.mark.parametrize("flag", ["-F", "--forceall"])
def test_a_forced_rerun_leaves_the_data_root_byte_identical(
    tmp_path: Path, data_copy: Path, flag: str
) -> None:
    workdir = copy_workflow(tmp_path / "workflow")
    config = load_yaml("smoke.yaml")
    config["train"]["corpus"] = "wiki1m"
    config_file = write_config(workdir, "forced.yaml", config)
    assert manifest_mismatches(data_copy) == []
    result = snakemake(
        workdir,
        flag,
        "--cores",
        "1",
        "--until",
        "download_senteval",
        "download_wiki1m",
        "--configfile",
        config_file,
        data_root=data_copy,
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "download_senteval" in output_of(result) and "download_wiki1m" in output_of(result)
    assert manifest_mismatches(data_copy) == []


# ------------------------------------------------------------ 1. files checked against it
@pytest.fixture
def lengths_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``--encoder`` spec of a cheap callable encoder (module in tmp_path)."""
    (tmp_path / "enc.py").write_text(
        "import numpy as np\n"
        "def lengths():\n"
        "    return lambda s: np.array([[len(x), 1.0 + x.count('a')] for x in s])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "enc:lengths"


def test_an_edited_data_file_is_refused_by_name(
    tmp_path: Path, data_copy: Path, tiny_backbone: Path, lengths_encoder: str, capsys
) -> None:
    sts16 = data_copy / "senteval" / "downstream" / "STS" / "STS16-en-test"
    edited = sts16 / "STS.input.answer-answer.txt"
    edited.write_text(edited.read_text().replace(" the ", " teh ", 1))
    out = tmp_path / "eval.json"
    status, err = cli(
        capsys,
        "evaluate",
        "--encoder",
        lengths_encoder,
        "--tasks",
        "STS16",
        "--data-dir",
        str(data_copy),
        "--no-cache",
        "--out",
        str(out),
    )
    assert_one_line_error(status, err, str(edited), "MANIFEST.sha256")
    assert not out.exists()
    corpus = data_copy / "corpora" / "wiki1m_head.txt"
    corpus.write_text(corpus.read_text() + "one more line\n")
    with pytest.raises(HncseError, match=re.escape(str(corpus))):
        Trainer(train_config(tmp_path, data_copy, tiny_backbone))


# ------------------------------------------------------------ 4. shell injection from config
def pretrained_only(poolers: list[str]) -> dict:
    config = load_yaml("smoke.yaml")
    config["baselines"] = {"pretrained": {"poolers": poolers}}
    config["studies"]["smoke"].update(methods=[], seeds=[], baselines=["pretrained"])
    return config


@pytest.mark.workflow
def test_a_config_value_never_runs_as_shell(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config_file = write_config(
        workdir, "hostile.yaml", pretrained_only(["avg --help >&2; touch INJECTED; true"])
    )
    result = snakemake(workdir, "--cores", "1", "--configfile", config_file, data_root=data_root)
    assert not (workdir / "INJECTED").exists()
    assert result.returncode != 0
    assert "poolers" in output_of(result) and not (workdir / "results").exists()


def test_a_typo_in_a_baseline_pooler_fails_the_plan(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config_file = write_config(workdir, "typo.yaml", pretrained_only(["avgg"]))
    result = snakemake(workdir, "-n", "--configfile", config_file, data_root=data_root)
    assert result.returncode != 0
    assert "'avgg' is not one of" in output_of(result)
    assert "avg_first_last" in output_of(result)


def test_the_schema_offers_the_poolers_the_encoder_has() -> None:
    from hncse.model import POOLERS

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    pretrained = schema["properties"]["baselines"]["properties"]["pretrained"]
    assert pretrained["properties"]["poolers"]["items"]["enum"] == list(POOLERS)


# ------------------------------------------------------------ training: helpers
def train_config(tmp_path: Path, data_root: Path, backbone: Path, **overrides: object):
    return load_config(overrides=tiny_run(tmp_path, data_root, backbone, **overrides))


def copy_model(source: Path, target: Path, *names: str) -> Path:
    target.mkdir(parents=True)
    for name in names:
        shutil.copy(source / name, target / name)
    return target


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``hncse ARGS`` in this process: exit status (argparse's too) and stderr."""
    try:
        status = main(list(args))
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


def assert_one_line_error(status: int, err: str, *expected: str) -> None:
    assert status == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], err


# ------------------------------------------------------------ 2. a model without tokenizer
def test_a_model_folder_without_its_tokenizer_is_refused(
    tmp_path: Path, tiny_backbone: Path
) -> None:
    folder = copy_model(tiny_backbone, tmp_path / "bare", "config.json", "model.safetensors")
    with pytest.raises(HncseError, match="tokenizer") as error:
        SentenceEncoder.from_pretrained(folder, "avg", "avg")
    assert str(folder) in str(error.value)


# ------------------------------------------------------------ 3. a wrong data_dir
def test_a_wrong_data_dir_fails_before_any_step(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    wrong = tmp_path / "wrong-root"
    wrong.mkdir()
    corpus = data_root / "corpora" / "wiki1m_head.txt"
    config = train_config(tmp_path, wrong, tiny_backbone, corpus=str(corpus))
    with pytest.raises(DataNotFoundError, match=re.escape(f"data_dir = '{wrong}'")):
        Trainer(config)
    assert not (tmp_path / "run").exists()


def test_a_corrected_data_dir_resumes_the_run(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    moved = tmp_path / "old-root"
    moved.mkdir()
    for name in ("senteval", "corpora"):
        (moved / name).symlink_to(data_root / name)
    first = Trainer(train_config(tmp_path, moved, tiny_backbone))
    for step in range(2):
        first.train_step(step)
    first.state.step = 2
    first._save_state()
    (first.output_dir / "config.yaml").write_text(first.config.to_yaml())
    # another training setting: refused, and the run folder keeps its config
    with pytest.raises(ConfigError, match="another config"):
        Trainer(train_config(tmp_path, data_root, tiny_backbone, k=5)).fit()
    assert (first.output_dir / "config.yaml").read_text() == first.config.to_yaml()
    # only the data root moved: the run resumes at step 2
    summary = Trainer(train_config(tmp_path, data_root, tiny_backbone)).fit()
    log = (first.output_dir / "train_log.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in log if '"train"' in line]
    assert summary["steps"] == 4 and steps == [3, 4]  # nobody logged steps 1-2 here


# ------------------------------------------------------------ 5. unpickling a planted file
class Planted:
    """Unpickling it calls open(mark, "w"): code run by loading a file."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.mark), "w"))


def test_a_planted_training_state_is_never_unpickled(tmp_path: Path) -> None:
    mark = tmp_path / "CODE-RAN"
    state = tmp_path / "run" / "checkpoint"
    state.mkdir(parents=True)
    torch.save({"run": Planted(mark)}, state / "training_state.pt")
    with pytest.raises(HncseError, match=r"training_state\.pt"):
        checkpoint.load_training_state(state)
    assert not mark.exists()


def test_a_kill_during_the_state_swap_resumes_from_the_newer_state(tmp_path: Path) -> None:
    """The training state is one set of hncse.files.staged_set: killed between its two
    renames, the new state sits in the swap folder, where every reader finds it without
    moving anything; the next save finishes the swap first."""
    target = tmp_path / "run" / "checkpoint"
    checkpoint.save_training_state(target, {"step": torch.tensor(1)})
    swap = target.parent / ".checkpoint.swap"
    (swap / ".old").mkdir(parents=True)
    checkpoint.save_training_state(tmp_path / "newer", {"step": torch.tensor(2)})
    target.rename(swap / ".old" / "checkpoint")  # the kill: old moved out, new not in yet
    (tmp_path / "newer").rename(swap / "checkpoint")
    assert checkpoint.load_training_state(target)["step"] == 2
    assert not target.exists()  # the reader moved nothing
    checkpoint.save_training_state(target, {"step": torch.tensor(3)})
    assert checkpoint.load_training_state(target)["step"] == 3
    assert sorted(p.name for p in target.parent.iterdir()) == ["checkpoint"]
    assert stat.S_IMODE((target / checkpoint.STATE_FILE).stat().st_mode) == files.file_mode()


# ------------------------------------------------------------ 6. one trainer per run folder
def test_a_run_folder_is_locked_while_a_process_trains_in_it(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    config = train_config(tmp_path, data_root, tiny_backbone)
    run = Path(config.output_dir)
    run.mkdir()
    with (run / ".train.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another trainer holds it
        held.write(f"{os.getpid()}\n")
        held.flush()
        with pytest.raises(HncseError, match=f"in use by process {os.getpid()}"):
            Trainer(config).fit()
    assert sorted(path.name for path in run.iterdir()) == [".train.lock"]
    assert Trainer(config).fit()["steps"] == 4  # free again


# ------------------------------------------------------------ 7. fixed PM weights of 0
def test_fixed_pm_weights_that_are_both_zero_fail_validation() -> None:
    with pytest.raises(ConfigError, match="pm_w1"):
        load_config(overrides={"method": "hncse-pm", "pm_weights": "fixed", "pm_w1": 0, "pm_w2": 0})


# ------------------------------------------------------------ 8. messages, not tracebacks
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"method: [simcse\n", "not valid YAML"),
        (b"method: simcse\ncorpus: caf\xe9\n", "not UTF-8"),
    ],
    ids=["yaml-syntax", "latin-1"],
)
def test_an_unreadable_config_file_is_one_line(
    tmp_path: Path, capsys, content: bytes, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    status, err = cli(capsys, "train", "--config", str(path), "--output-dir", str(tmp_path / "run"))
    assert_one_line_error(status, err, str(path), expected)
    assert not (tmp_path / "run").exists()


def test_infinite_and_nan_values_fail_validation() -> None:
    for key in ("num_epochs", "temperature", "learning_rate"):
        for value in (".inf", ".nan"):
            with pytest.raises(ConfigError, match=key):
                load_config(overrides=parse_overrides([f"{key}={value}"]))


@pytest.mark.parametrize(
    ("backbone", "expected"),
    [
        ("{tmp}/missing-model", "does not exist"),
        ("pypi:no_such_module_here", "is not installed"),
    ],
    ids=["missing-folder", "pypi-not-installed"],
)
def test_a_bad_backbone_is_one_line_before_anything_is_written(
    tmp_path: Path, data_root: Path, capsys, backbone: str, expected: str
) -> None:
    backbone = backbone.format(tmp=tmp_path)
    status, err = cli(
        capsys,
        "train",
        "--set",
        f"backbone={backbone}",
        "corpus=wiki1m_head.txt",
        f"data_dir={data_root}",
        "--output-dir",
        str(tmp_path / "run"),
    )
    assert_one_line_error(status, err, backbone, expected)
    assert "Repo id" not in err
    assert not (tmp_path / "run").exists()


def test_a_truncated_weights_file_is_one_clear_error(tmp_path: Path, tiny_backbone: Path) -> None:
    folder = copy_model(tiny_backbone, tmp_path / "cut", *(p.name for p in tiny_backbone.iterdir()))
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(HncseError, match="cannot load") as error:
        SentenceEncoder.from_pretrained(folder, "avg", "avg")
    assert str(folder) in str(error.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--threads", "-1"),
        ("--batch-size", "0"),
        ("--batch-size", "-4"),
        ("--max-length", "0"),
        ("--max-train-samples", "0"),
    ],
)
def test_evaluate_refuses_non_positive_numbers_before_loading(
    tmp_path: Path, capsys, option: str, value: str
) -> None:
    status, err = cli(
        capsys,
        "evaluate",
        "--model",
        "/nowhere/model",
        option,
        value,
        "--out",
        str(tmp_path / "eval.json"),
    )
    assert_one_line_error(status, err, option, value)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------ 9. a corrupt cache file
def ones_source():
    return function_source(lambda sentences: np.ones((len(sentences), 3)), "ones")


def test_a_corrupt_cache_file_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    source, sentences = ones_source(), {"T": ["b", "a"]}
    cache = EmbeddingCache(tmp_path, source.info.fingerprint)
    embed_tasks(sentences, source, cache)
    path = cache.path("T", ["a", "b"])
    path.write_bytes(b"\x93NUMPY garbage, cut short by a full disk")
    with pytest.warns(UserWarning, match=re.escape(str(path))):
        encoded = embed_tasks(sentences, source, cache)
    assert encoded.encoded == 2
    assert np.load(path).shape == (2, 3)


def test_a_cache_that_cannot_be_written_does_not_stop_the_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, write) -> Path:  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(encoding, "write_atomic", disk_full)
    source = ones_source()
    with pytest.warns(UserWarning, match="No space left"):
        encoded = embed_tasks(
            {"T": ["a", "b"]}, source, EmbeddingCache(tmp_path, source.info.fingerprint)
        )
    assert encoded.table(["a"]).shape == (1, 3)


# ------------------------------------------------------------ 10. a full disk
def test_a_failed_result_write_keeps_the_previous_pair_of_files(
    tmp_path: Path, data_root: Path, lengths_encoder: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "eval.json"
    args = (
        "evaluate",
        "--encoder",
        lengths_encoder,
        "--tasks",
        "STS16",
        "--data-dir",
        str(data_root),
        "--no-cache",
        "--no-progress",
        "--out",
        str(out),
    )
    assert cli(capsys, *args)[0] == 0
    before = {path.name: path.read_bytes() for path in tmp_path.glob("eval*")}

    def disk_full(self) -> str:  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(EvaluationResult, "to_json", disk_full)
    status, err = cli(capsys, *args)
    assert status != 0 and "Traceback" not in err
    assert "No space left on device" in err and str(tmp_path) in err
    after = {path.name: path.read_bytes() for path in tmp_path.glob("eval*")}
    assert after == before  # no new parquet beside the old JSON, no temporary file left


def test_a_full_disk_during_the_export_is_a_clear_error(
    tmp_path: Path, tiny_backbone: Path
) -> None:
    encoder = SentenceEncoder.from_pretrained(tiny_backbone, "avg", "avg")
    target = tmp_path / "model"
    checkpoint.export_model(encoder, target)
    before = (target / "model.safetensors").read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            "[enforce fail at inline_container.cc:820] . PytorchStreamWriter "
            "failed writing file data/0: file write failed"
        )

    encoder.backbone.save_pretrained = disk_full  # type: ignore[method-assign]
    with pytest.raises(HncseError, match=re.escape(f"could not write {target}")):
        checkpoint.export_model(encoder, target)
    assert (target / "model.safetensors").read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


# ------------------------------------------------------------ 11. a corpus that is no text
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a sentence\n" + b"\x00" * 4096 + b"\n", "line 2: NUL byte"),
        (b"a sentence\ncaf\xe9 au lait\n", "line 2: not UTF-8"),
    ],
    ids=["binary", "latin-1"],
)
def test_a_corpus_that_is_not_utf8_text_is_refused(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=expected):
        LineCorpus(path)


# ------------------------------------------------------------ 12. a huge line
def test_a_huge_line_is_cut_before_it_is_tokenised(tiny_backbone: Path) -> None:
    encoder = SentenceEncoder.from_pretrained(tiny_backbone, "avg", "avg")
    short = " ".join(f"word{i}" for i in range(40))
    expected = encoder.tokenize([short], 16)["input_ids"]
    spy = mock.Mock(wraps=encoder.tokenizer)
    encoder.tokenizer = spy
    batch = encoder.tokenize([short + " more" * 2_000_000], 16)
    assert torch.equal(batch["input_ids"], expected)
    (texts,), _ = spy.call_args
    assert len(texts[0]) < 10 * len(short)


def test_a_training_step_tokenises_its_batch_once(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    trainer = Trainer(train_config(tmp_path, data_root, tiny_backbone))
    spy = mock.Mock(wraps=trainer.encoder.tokenizer)
    trainer.encoder.tokenizer = spy
    h, h_pos, _ = trainer._views(["one sentence", "and another one"])
    assert [len(call.args[0]) for call in spy.call_args_list] == [2]
    assert h.shape == h_pos.shape == (2, 32)


# ------------------------------------------------------------ also seen
def test_k_larger_than_the_bank_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"k = 40: .*bank holds .* = 32 vectors"):
        load_config(overrides={"k": 40, "batch_size": 16, "bank_size": 2})
    with pytest.raises(ConfigError, match=r"k = 16.*15"):
        load_config(overrides={"k": 16, "batch_size": 16, "bank": "in_batch"})
    assert load_config(overrides={"k": 32, "batch_size": 16, "bank_size": 2}).k == 32
    # methods without hard negative mixing never draw k vectors: any batch size will do
    assert load_config(overrides={"method": "simcse", "batch_size": 8}).k > 8 - 1


def test_the_exported_model_gets_the_usual_file_mode(tmp_path: Path, tiny_backbone: Path) -> None:
    encoder = SentenceEncoder.from_pretrained(tiny_backbone, "avg", "avg")
    checkpoint.export_model(encoder, tmp_path / "model")
    umask = os.umask(0)
    os.umask(umask)
    modes = {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in (tmp_path / "model").rglob("*")
        if path.is_file()
    }
    assert modes and set(modes.values()) == {0o666 & ~umask}, modes


def test_a_trainer_ends_with_the_shell_that_launched_it(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    """The workflow's job is `bash -c "hncse train --exit-with-parent ..."`: killing that
    shell must not leave the trainer writing into the run folder."""
    run = tmp_path / "run"
    command = shlex.join(
        [
            sys.executable,
            "-m",
            "hncse.cli",
            "train",
            "--exit-with-parent",
            "--set",
            f"backbone={tiny_backbone}",
            "corpus=wiki1m_head.txt",
            f"data_dir={data_root}",
            "method=simcse",
            "batch_size=8",
            "k=4",
            "max_steps=100000",
            "eval_steps=0",
            "save_steps=0",
            f"output_dir={run}",
        ]
    )
    shell = subprocess.Popen(
        ["bash", "-c", f"{command}; true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    trainer = None
    try:
        deadline = time.monotonic() + 120
        while not (run / "train_log.jsonl").is_file():
            assert shell.poll() is None and time.monotonic() < deadline, "no training started"
            time.sleep(0.1)
        (trainer,) = psutil.Process(shell.pid).children()
        shell.kill()
        shell.wait()
        trainer.wait(timeout=30)  # psutil.TimeoutExpired: an orphan goes on training
    finally:
        if shell.poll() is None:
            shell.kill()
        if trainer is not None and trainer.is_running():
            trainer.kill()
