"""TrainConfig: every option of docs/method.md, validated before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from hncse.config import ConfigError, load_config, parse_overrides


def test_defaults_are_the_papers_recipe() -> None:
    config = load_config()
    assert (config.method, config.temperature, config.batch_size) == ("hncse", 0.05, 64)
    assert (config.learning_rate, config.max_seq_length, config.pooler) == (3e-5, 32, "cls")
    assert (config.theta, config.k, config.m, config.alpha, config.bank_size) == (
        0.1,
        10,
        40,
        0.5,
        1,
    )


def test_yaml_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("method: simcse\nk: 4\nalpha: uniform\n")
    config = load_config(path, parse_overrides(["k=6", "temperature=0.1"]))
    assert (config.method, config.k, config.alpha, config.temperature) == (
        "simcse",
        6,
        "uniform",
        0.1,
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"methdo": "simcse"}, ["methdo", "unknown key", "temperature"]),
        ({"method": "simcsee"}, ["method", "simcse", "hncse-pm", "hncse-hnm"]),
        ({"k": "ten"}, ["k", "integer"]),
        ({"temperature": 0}, ["temperature", "greater than 0"]),
        ({"alpha": 1.5}, ["alpha", "[0, 1]", "uniform"]),
        ({"bank": "queue"}, ["bank", "previous", "in_batch"]),
        ({"pooler": "mean"}, ["pooler", "avg_first_last"]),
        ({"beta": -0.1}, ["beta", "greater than or equal to 0"]),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_values(
    overrides: dict[str, object], named: list[str]
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(overrides=overrides)
    for text in named:
        assert text in str(error.value)


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["k"])
