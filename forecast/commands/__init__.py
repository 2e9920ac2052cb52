"""Sub-commands of the ``forecast`` command line, one module each (see :mod:`forecast.cli`).

Flags mean the same everywhere: the experiment spec is the first positional argument,
``--run-dir DIR`` (or ``--run RUN_ID`` for a tracked run) is a run to read, ``--out`` is
always where to write, ``--no-track`` turns tracking off.
"""
