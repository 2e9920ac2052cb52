"""The ``forecast`` command line: data, features, backtests, costs, reports, risk lists."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence

from forecast._errors import DataNotAvailableError, ForecastInputError

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]

# No usage reports to MLflow's authors from this process or any it starts (the same as
# forecast.tracking sets, here before any command runs).
for _variable in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
    os.environ.setdefault(_variable, "true")


def _data_list(args: argparse.Namespace) -> int:
    from forecast.data import dataset_info, dataset_names

    for name in dataset_names():
        info = dataset_info(name)
        where = "embedded" if info.embedded else "download"
        print(f"{name:<18} {where:<9} {info.description}")
    return 0


def _data_show(args: argparse.Namespace) -> int:
    import time

    from forecast.data import load_dataset

    start = time.perf_counter()
    panel = load_dataset(args.name)
    seconds = time.perf_counter() - start
    summary = panel.summary()
    missing: dict[str, float] = summary.pop("missing_share")  # type: ignore[assignment]
    summary["load_seconds"] = round(seconds, 3)
    summary["features"] = len(panel.features)
    summary["features_by_kind"] = {
        kind: sum(1 for f in panel.features if panel.kinds.get(f) == kind)
        for kind in sorted(set(panel.kinds.values()))
    }
    summary["most_missing"] = dict(sorted(missing.items(), key=lambda kv: -kv[1])[:5])
    if "mk_onset" in panel.outcomes:
        summary["onset_rate"] = round(float(panel.frame["mk_onset"].mean()), 5)
    if "true_probability" in panel.frame.columns:
        from sklearn.metrics import roc_auc_score

        from forecast.data.synthetic import oracle_window_probability

        oracle = oracle_window_probability(panel.frame, 2)
        known = panel.frame["mk_onset_1or2"].notna() & oracle.notna()
        summary["oracle_auc_onset_within_2"] = round(
            float(roc_auc_score(panel.frame.loc[known, "mk_onset_1or2"], oracle[known])), 4
        )
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _data_fetch(args: argparse.Namespace) -> int:
    from forecast.data import data_dir, data_mirror, fetch, load_manifest

    manifest = load_manifest(args.name)
    print(
        f"fetching {manifest.name} ({manifest.repository}@{manifest.commit[:10]}) "
        f"into {data_dir() / manifest.name}"
        + (f" from mirror {data_mirror()}" if data_mirror() else "")
    )
    fetch(manifest, log=print)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast",
        description="Leakage-safe forecasting and evaluation of atrocity early-warning models.",
    )
    from forecast import __version__

    parser.add_argument("--version", action="version", version=f"forecast {__version__}")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="only warnings and errors (no progress)"
    )
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="also debug messages of the library"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data = commands.add_parser("data", help="list, describe and download datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    data_commands.add_parser("list", help="list the datasets").set_defaults(handler=_data_list)
    show = data_commands.add_parser("show", help="summary of a dataset (rows, onsets, oracle AUC)")
    show.add_argument("name", help="dataset name, e.g. synthetic-world or ewp-2025")
    show.set_defaults(handler=_data_show)
    fetch = data_commands.add_parser(
        "fetch",
        help="download a dataset into the cache ($FORECAST_DATA_DIR), verifying sha256",
        description="Download the pinned files of a dataset into $FORECAST_DATA_DIR (default: "
        "the user cache dir), verifying each sha256; files already there and "
        "verified are kept. Set FORECAST_DATA_MIRROR to a base URL (http(s):// or "
        "file://) or a folder laid out as <mirror>/<dataset>/<file> (any data "
        "folder will do) to download from it instead of upstream.",
    )
    fetch.add_argument("name", help="dataset name, e.g. ewp-2025")
    fetch.set_defaults(handler=_data_fetch)

    for register in _plugins():
        register(commands)
    return parser


def _plugins() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Sub-command groups defined next to the code they drive."""
    registers = []
    for module_name in (
        "forecast.features._cli",
        "forecast.commands.backtest",
        "forecast.commands.cluster",
        "forecast.commands.costs",
        "forecast.commands.report",
        "forecast.commands.risklist",
        "forecast.commands.cache",
        "forecast.commands.compare",
        "forecast.commands.profile",
        "forecast.commands.whatif",
        "forecast.commands.experiments",
        "forecast.commands.schema",
        "forecast.commands.track",
        "forecast.commands.ledger",
    ):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                continue
            raise
        registers.append(module.register)
    return registers


class _Formatter(logging.Formatter):
    """``forecast: <message>``, and ``forecast: warning: <message>`` for warnings."""

    def format(self, record: logging.LogRecord) -> str:
        level = f"{record.levelname.lower()}: " if record.levelno >= logging.WARNING else ""
        return f"forecast: {level}{record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (which a caller or a test may have replaced)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(*, quiet: bool = False, verbose: bool = False) -> None:
    """The library logs through ``logging`` (``forecast.*``); the command line shows it on
    stderr: progress and notes (INFO) by default, only warnings with ``--quiet``, everything
    with ``--verbose``."""
    logger = logging.getLogger("forecast")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_Formatter())
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    logger = logging.getLogger("forecast")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's exit code for SIGINT
        print("forecast: interrupted", file=sys.stderr)
        return 130
    finally:  # the command's logging ends with it (main may be called in a longer process)
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]


def _main(argv: Sequence[str] | None) -> int:
    from forecast.commands._common import check_shared_options

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(quiet=args.quiet, verbose=args.verbose)
    try:
        check_shared_options(args)
        return int(args.handler(args) or 0)
    except (ForecastInputError, DataNotAvailableError) as error:
        print(f"forecast: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a path the checks could not foresee (disk full, a race)
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"forecast: error: {where}{error.strerror or error}; fix: check the path, its "
            "permissions and free space",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
