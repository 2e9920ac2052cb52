"""The editions ledger: every issued risk list, kept and scored as its outcomes arrive.

:class:`Ledger` keeps editions (one list each) in a plain folder beside the tracking store
(:func:`ledger_dir`); :func:`record_risklist` records a list just issued,
:func:`import_list` reads an external list, :func:`dataset_editions` the reference system's
published lists (``ewp-editions``). :func:`score_editions` scores every edition whose window
is observed; :func:`track_record_section_html` renders the result for a risk list page.
See docs/design/0014-editions-ledger.md.
"""

from forecast.ledger._editions import dataset_editions, import_list, parse_window, record_risklist
from forecast.ledger._page import render_track_record, track_record_section_html
from forecast.ledger._score import (
    LedgerScore,
    backtest_editions,
    outcome_table,
    score_editions,
)
from forecast.ledger._store import (
    LEDGER_ENV,
    Edition,
    EditionRecord,
    Ledger,
    edition_id,
    ledger_dir,
    make_edition,
)
from forecast.ledger._units import fold_name, match_units

__all__ = [
    "LEDGER_ENV",
    "Edition",
    "EditionRecord",
    "Ledger",
    "LedgerScore",
    "backtest_editions",
    "dataset_editions",
    "edition_id",
    "fold_name",
    "import_list",
    "ledger_dir",
    "make_edition",
    "match_units",
    "outcome_table",
    "parse_window",
    "record_risklist",
    "render_track_record",
    "score_editions",
    "track_record_section_html",
]
