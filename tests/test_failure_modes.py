"""Issue 9: bad inputs, faults and interruptions. One test (or a few) per defect found; each
failed on the code before its fix. Numbers refer to the issue's list (docs/failure-modes.md)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from tests.test_workflow import REPO, copy_workflow, load_yaml, output_of, snakemake, write_config


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
def test_a_forced_rerun_leaves_the_data_root_byte_identical(tmp_path: Path, data_copy: Path,
                                                            flag: str) -> None:
    workdir = copy_workflow(tmp_path / "workflow")
    config = load_yaml("smoke.yaml")
    config["train"]["corpus"] = "wiki1m"
    config_file = write_config(workdir, "forced.yaml", config)
    assert manifest_mismatches(data_copy) == []
    result = snakemake(workdir, flag, "--cores", "1", "--until", "download_senteval",
                       "download_wiki1m", "--configfile", config_file, data_root=data_copy)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "download_senteval" in output_of(result) and "download_wiki1m" in output_of(result)
    assert manifest_mismatches(data_copy) == []


# ------------------------------------------------------------ 4. shell injection from config
def pretrained_only(poolers: list[str]) -> dict:
    config = load_yaml("smoke.yaml")
    config["baselines"] = {"pretrained": {"poolers": poolers}}
    config["studies"]["smoke"].update(methods=[], seeds=[], baselines=["pretrained"])
    return config


@pytest.mark.workflow
def test_a_config_value_never_runs_as_shell(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config_file = write_config(workdir, "hostile.yaml",
                               pretrained_only(["avg --help >&2; touch INJECTED; true"]))
    result = snakemake(workdir, "--cores", "1", "--configfile", config_file,
                       data_root=data_root)
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
