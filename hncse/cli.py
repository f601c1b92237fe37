"""``hncse <command>``: one sub-command per stage; each command's arguments and entry live in
the module of its concept (``add_arguments(parser)`` and ``run(args) -> int``)."""

from __future__ import annotations

import argparse
import importlib
import sys

from hncse import HncseError

# command -> (module, one-line help); each module adds its own arguments.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("hncse.trainer", "train one model from a YAML config"),
    "probe": ("hncse.probe", "mechanism pre-flight: the first N steps of a run, measured"),
    "encode": ("hncse.encode", "embed sentences with a trained model"),
    "evaluate": ("hncse.evaluation.cli", "SentEval-protocol evaluation of a model"),
    "export-mteb": (
        "hncse.evaluation.mteb_export",
        "a run's STS results as MTEB result files (+ model_meta.json)",
    ),
    "download": ("hncse.download", "fetch SentEval data or wiki1m (online users)"),
    "aggregate": ("hncse.analysis.cli", "collect results: tidy table, tables, statistics"),
    "report": ("hncse.report.build", "build the self-contained HTML report of a results folder"),
    "plan": ("hncse.workflow.cli", "what a workflow config's studies run; --cost: GPU estimate"),
}


def _whole_number_at_least(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ {least}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1 (batch sizes, threads, lengths)."""
    return _whole_number_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number ≥ 0 (an interval where 0 means never)."""
    return _whole_number_at_least(text, 0)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``hncse`` parser; with ``command``, only that command's module is imported (so
    ``hncse plan`` starts without torch), the others are listed by name and help alone."""
    parser = argparse.ArgumentParser(prog="hncse", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        if command in (None, name):
            importlib.import_module(module_name).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    try:
        return importlib.import_module(args._module).run(args)
    except HncseError as error:
        print(f"hncse {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
