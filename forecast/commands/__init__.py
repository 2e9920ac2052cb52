"""Sub-commands of the ``forecast`` command line (Click), one module each (see :mod:`forecast.cli`).

A new command: ``forecast/commands/<name>.py`` defines it under its own name, with
``@command("<name>", short_help=...)`` from ``_common`` and a docstring (its ``--help``), or
as a group ``<name> = Group("<name>", short_help=...)`` with ``@<name>.command("<action>")``
actions; then add ``"<name>": "forecast.commands.<name>"`` to ``lazy`` in :mod:`forecast.cli`
(that order is the order of ``forecast --help``). An argparse ``register`` ports one to one:
``add_argument`` -> ``@click.option``/``@click.argument`` (``store_true`` -> ``is_flag=True``,
``append`` -> ``multiple=True``, ``SUPPRESS`` -> ``hidden=True``, names -> ``shell_complete=
complete("module:function")``); the handler stays ``def <name>(args: Namespace) -> int``
(options as ``args.x``) and raises ``input_error`` for bad input (exit 2, one line).

Flags mean the same everywhere: the experiment spec is the first positional argument,
``--run-dir DIR`` (or ``--run RUN_ID`` for a tracked run) is a run to read, ``--out`` is
always where to write, ``--no-track`` turns tracking off.
"""
