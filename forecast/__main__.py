"""``python -m forecast``: the ``forecast`` command line."""

from forecast.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
