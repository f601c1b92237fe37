"""config/README.md, generated from the workflow's schema (the Snakemake catalogue's standard
usage asks for a config/README.md): one table per mapping of the config, each key with its
type, default and description, so the page cannot drift from what `validate()` accepts.

    python -m hncse.workflow.config_doc > config/README.md

tests/test_workflow.py checks that the committed page equals this output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

INTRO = """\
# Configuring a study

`snakemake --cores all` reads `config/config.yaml` (the default CPU study);
`--configfile FILE` replaces it with another: `config/smoke.yaml` (the CI smoke study),
`config/cpu-questions.yaml` (Q1–Q3 on CPU), `config/paper.yaml` (the paper-sized study on
GPUs). `config/probe.yaml` is not a study: it is the base run of `hncse probe`.

A config is checked against `workflow/schemas/config.schema.yaml` before anything runs, and
every training option against `hncse.config.TrainConfig` (all its keys: docs/training.md).
A study is methods × backbones × seeds × settings; how runs are named and shared between
studies: docs/workflow.md.

This page is generated from the schema (`python -m hncse.workflow.config_doc >
config/README.md`); a test fails when the two differ.
"""


def _def_name(node: dict[str, Any]) -> str | None:
    return node["$ref"].rsplit("/", 1)[-1] if "$ref" in node else None


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while (name := _def_name(node)) is not None:
        node = schema["$defs"][name]
    return node


def _type(node: dict[str, Any], schema: dict[str, Any]) -> str:
    name = _def_name(node)
    resolved = _resolve(node, schema)
    if name is not None and "properties" in resolved:
        return f"[{name}](#{name})"
    if "enum" in resolved:
        return " \\| ".join(f"`{value}`" for value in resolved["enum"])
    if "const" in resolved:
        return f"`{resolved['const']}`"
    if "anyOf" in resolved:
        return " or ".join(_type(option, schema) for option in resolved["anyOf"])
    kind = resolved.get("type", "object")
    return " or ".join(kind) if isinstance(kind, list) else kind


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(key: str, node: dict[str, Any], schema: dict[str, Any]) -> str:
    default = f"`{json.dumps(node['default'])}`" if "default" in node else ""
    description = node.get("description") or _resolve(node, schema).get("description", "")
    return f"| `{key}` | {_type(node, schema)} | {default} | {_cell(description)} |"


def _sections(
    title: str, node: dict[str, Any], schema: dict[str, Any]
) -> Iterator[tuple[str, list[str]]]:
    """(title, rows) for this mapping, then for each nested mapping written inline; mappings
    defined once in the schema's $defs get a section of their own (`render`)."""
    properties = node.get("properties")
    if properties is None and isinstance(node.get("additionalProperties"), dict):
        item = node["additionalProperties"]
        if "properties" in item:  # a mapping of names to records (backbones, studies)
            yield from _sections(f"{title}.<name>", item, schema)
        return
    if not properties:
        return
    yield title, [_row(key, value, schema) for key, value in properties.items()]
    for key, value in properties.items():
        inline = value if "$ref" not in value else {}
        yield from _sections(f"{title}.{key}", inline, schema)


def render(schema: dict[str, Any]) -> str:
    sections = list(_sections("config", schema, schema))
    for name, definition in schema["$defs"].items():
        sections.extend(_sections(name, definition, schema))
    header = "| key | type | default | meaning |\n| --- | --- | --- | --- |"
    parts = [INTRO]
    for title, rows in sections:
        parts.append(f"## {title}\n\n{header}\n" + "\n".join(rows) + "\n")
    return "\n".join(parts)


def main() -> None:
    sys.stdout.write(render(yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
