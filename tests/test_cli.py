"""The command line on Click: shell completion, help, usage errors in one line."""

import os
import subprocess
import sys

import click
import pytest
from click.shell_completion import BashComplete

from forecast._shipped import experiment_names
from forecast.cli import COMPLETE_VAR, cli, main
from forecast.data import dataset_names
from forecast.features import feature_set_names


def _forecast(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forecast", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bash_completes_a_shipped_experiment_name_through_the_printed_script(tmp_path):
    """`forecast backtest synth<TAB>` in bash, with the script `forecast completion bash`
    prints, offers the shipped specs whose names start with synth."""
    script = _forecast("completion", "bash")
    assert script.returncode == 0, script.stderr
    (tmp_path / "forecast.sh").write_text(script.stdout)
    shim = tmp_path / "bin" / "forecast"  # the console script, on this checkout
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m forecast "$@"\n')
    shim.chmod(0o755)
    typed = (
        "source forecast.sh; COMP_WORDS=(forecast backtest synth); COMP_CWORD=2; "
        '_forecast_completion forecast 2>/dev/null; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    path = f"{shim.parent}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", "-c", typed],
        cwd=tmp_path,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    offered = done.stdout.split()
    assert "synthetic-default" in offered, done
    assert offered == [n for n in experiment_names() if n.startswith("synth")]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_command_prints_clicks_script(shell):
    printed = _forecast("completion", shell)
    sourced = _forecast(**{COMPLETE_VAR: f"{shell}_source"})
    assert printed.returncode == sourced.returncode == 0, (printed.stderr, sourced.stderr)
    assert printed.stdout.strip() == sourced.stdout.strip()
    assert f"{COMPLETE_VAR}={shell}_complete" in printed.stdout


def _offered(words: list[str], incomplete: str) -> list[tuple[str, str]]:
    found = BashComplete(cli, {}, "forecast", COMPLETE_VAR).get_completions(words, incomplete)
    return [(item.type, item.value) for item in found]


def test_completion_of_commands_specs_datasets_and_feature_sets():
    assert _offered([], "ba") == [("plain", "backtest")]
    assert ("plain", "completion") in _offered([], "")
    shipped = [("plain", n) for n in experiment_names()]
    for command in ("backtest", "risklist", "explain", "whatif", "profile"):
        assert _offered([command], "") == [("file", ""), *shipped]  # a name, or a YAML path
    assert _offered(["experiments", "show"], "ewp") == [
        ("plain", n) for n in experiment_names() if n.startswith("ewp")
    ]
    for action in ("show", "fetch"):
        assert _offered(["data", action], "") == [("plain", n) for n in dataset_names()]
    assert _offered(["features", "build", "--set"], "ewp-2025-") == [
        ("file", "ewp-2025-"),
        *(("plain", n) for n in feature_set_names() if n.startswith("ewp-2025-")),
    ]
    assert _offered(["backtest", "x.yaml", "--back"], "--back") == [("plain", "--backend")]


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):
        yield (*path, name)
        command = group.get_command(context, name)
        yield from _commands(command, (*path, name)) if isinstance(command, click.Group) else ()


def test_every_command_has_help_and_exits_0(capsys):
    paths = list(_commands(cli))
    assert {p[0] for p in paths} >= {"data", "backtest", "costs", "report", "risklist"}
    for path in [(), *paths]:
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert out.startswith(f"Usage: {' '.join(['forecast', *path])} "), out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("forecast 0.")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["backtest", "x.yaml", "--n-jobs", "two"],
            "invalid value for '--n-jobs': 'two' is not a valid integer; "
            "fix: see `forecast backtest --help`",
        ),
        (
            ["explain", "x.yaml", "--unit", "Sudan", "--to", "2020"],
            "missing option '--from'; fix: see `forecast explain --help`",
        ),
        (
            ["backtest", "x.yaml", "--backend", "ray"],
            "invalid value for '--backend': 'ray' is not one of 'loky', 'dask'; "
            "fix: see `forecast backtest --help`",
        ),
        (["bakctest"], "no such command 'bakctest'; fix: see `forecast --help`"),
        (
            ["backtest", "x.yaml", "--no-cahce"],
            "no such option '--no-cahce'. (Did you mean one of: '--no-cache', '--no-track'?); "
            "fix: see `forecast backtest --help`",
        ),
        (
            ["-q", "-v", "data", "list"],
            "-q/--quiet and -v/--verbose exclude each other; fix: see `forecast --help`",
        ),
        (
            ["costs", "--run-dir", "a", "--run", "b"],
            "--run-dir a and --run b name two runs; fix: pass one of them",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err == f"forecast: error: {message}\n"


def test_a_missing_command_or_action_is_a_usage_error(capsys):
    for argv, where in (([], "forecast"), (["data"], "forecast data")):
        assert main(argv) == 2
        assert capsys.readouterr() == (
            "",
            f"forecast: error: missing command; fix: see `{where} --help`\n",
        )


def test_a_reader_that_goes_away_is_not_an_error():
    """`forecast schema feature-set | head -1`: no 'error' line when the pipe closes early."""
    import subprocess
    import sys

    done = subprocess.run(
        f"{sys.executable} -m forecast schema feature-set | head -c 1 >/dev/null; "
        f"{sys.executable} -m forecast schema feature-set | head -c 1 >/dev/null",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
