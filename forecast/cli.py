"""The ``forecast`` command line (Click): data, features, backtests, costs, reports, risk lists.

Each sub-command lives next to the code it drives (:mod:`forecast.commands`); :func:`main`
maps every failure to an exit code and one line on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence

import click
from click.shell_completion import shell_complete

from forecast import __version__
from forecast._errors import DataNotAvailableError, ForecastInputError
from forecast.commands._common import COMPLETE_VAR, Group, complete_dataset

__all__ = ["COMPLETE_VAR", "cli", "main"]

# No usage reports to MLflow's authors from this process or any it starts (the same as
# forecast.tracking sets, here before any command runs).
for _variable in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
    os.environ.setdefault(_variable, "true")


@click.group(
    "forecast",
    cls=Group,
    lazy={  # command -> the module that defines it, under the same name
        "features": "forecast.features._cli",
        "backtest": "forecast.commands.backtest",
        "cluster": "forecast.commands.cluster",
        "costs": "forecast.commands.costs",
        "report": "forecast.commands.report",
        "risklist": "forecast.commands.risklist",
        "explain": "forecast.commands.risklist",
        "cache": "forecast.commands.cache",
        "compare": "forecast.commands.compare",
        "profile": "forecast.commands.profile",
        "whatif": "forecast.commands.whatif",
        "experiments": "forecast.commands.experiments",
        "schema": "forecast.commands.schema",
        "track": "forecast.commands.track",
        "ledger": "forecast.commands.ledger",
        "completion": "forecast.commands.completion",
    },
    help="Leakage-safe forecasting and evaluation of atrocity early-warning models.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="forecast", message="%(prog)s %(version)s")
@click.option("-q", "--quiet", is_flag=True, help="only warnings and errors (no progress)")
@click.option("-v", "--verbose", is_flag=True, help="also debug messages of the library")
def cli(quiet: bool, verbose: bool) -> None:
    """Show the library's logging (``forecast.*``) on stderr while the command runs: progress
    and notes (INFO) by default, only warnings with ``--quiet``, everything with ``--verbose``."""
    if quiet and verbose:
        raise click.UsageError("-q/--quiet and -v/--verbose exclude each other")
    logger = logging.getLogger("forecast")
    saved = (logger.level, list(logger.handlers))

    def restore() -> None:  # main may run in a longer process
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]

    click.get_current_context().call_on_close(restore)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


data = Group("data", short_help="list, describe and download datasets")
cli.add_command(data)


@data.command("list", short_help="list the datasets")
def _list(args) -> int:
    from forecast.data import dataset_info, dataset_names

    for name in dataset_names():
        info = dataset_info(name)
        where = "embedded" if info.embedded else "download"
        print(f"{name:<18} {where:<9} {info.description}")
    return 0


@data.command("show", short_help="summary of a dataset (rows, onsets, oracle AUC)")
@click.argument(
    "name", help="dataset name, e.g. synthetic-world or ewp-2025", shell_complete=complete_dataset
)
def _show(args) -> int:
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


@data.command(
    "fetch", short_help="download a dataset into the cache ($FORECAST_DATA_DIR), verifying sha256"
)
@click.argument("name", help="dataset name, e.g. ewp-2025", shell_complete=complete_dataset)
def _fetch(args) -> int:
    """Download the pinned files of a dataset into $FORECAST_DATA_DIR (default: the user cache dir),
    verifying each sha256; files already there and verified are kept. Set FORECAST_DATA_MIRROR to a
    base URL (http(s):// or file://) or a folder laid out as <mirror>/<dataset>/<file> (any data
    folder will do) to download from it instead of upstream."""
    from forecast.data import data_dir, data_mirror, fetch, load_manifest

    manifest = load_manifest(args.name)
    print(
        f"fetching {manifest.name} ({manifest.repository}@{manifest.commit[:10]}) "
        f"into {data_dir() / manifest.name}"
        + (f" from mirror {data_mirror()}" if data_mirror() else "")
    )
    fetch(manifest, log=print)
    return 0


class _StderrHandler(logging.Handler):
    """``forecast: <message>`` (``forecast: warning: <message>`` for warnings) on the current
    ``sys.stderr`` (which a caller or a test may have replaced)."""

    def emit(self, record: logging.LogRecord) -> None:
        level = f"{record.levelname.lower()}: " if record.levelno >= logging.WARNING else ""
        print(f"forecast: {level}{record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit code:
    0 done, 1 some work failed, 2 a usage error or bad input (one line on stderr), 130
    interrupted."""
    if argv is None and os.environ.get(COMPLETE_VAR):  # the shell asks for completions
        return shell_complete(cli, {}, "forecast", COMPLETE_VAR, os.environ[COMPLETE_VAR])
    try:
        with cli.make_context("forecast", sys.argv[1:] if argv is None else list(argv)) as ctx:
            return int(cli.invoke(ctx) or 0)
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.ClickException as error:  # a usage error: one line, and where to look
        message, where = error.format_message().rstrip("."), getattr(error, "ctx", None)
        fix = f"; fix: see `{where.command_path} --help`" if where else ""
        print(f"forecast: error: {message[:1].lower()}{message[1:]}{fix}", file=sys.stderr)
        return error.exit_code
    except (ForecastInputError, DataNotAvailableError) as error:
        print(f"forecast: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`forecast schema ... | head`): quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 141
    except OSError as error:  # a path the checks could not foresee (disk full, a race)
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"forecast: error: {where}{error.strerror or error}; fix: check the path, its "
            "permissions and free space",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, the shell's exit code for SIGINT
        print("forecast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
