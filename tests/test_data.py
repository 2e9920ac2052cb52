import contextlib
import functools
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from forecast import DataNotAvailableError, ForecastInputError
from forecast.cli import main
from forecast.data import data_mirror, load_dataset, load_manifest
from forecast.data._files import read_table
from forecast.data._store import DataFile, Manifest, fetch, verify_file


@pytest.mark.realdata
def test_ewp_2025_loads_with_known_counts(data_root):
    panel = load_dataset("ewp-2025", root=data_root)
    frame = panel.frame
    assert len(frame) == 9463
    assert frame["unit"].nunique() == 173
    assert int(frame["mk_onset"].sum()) == 122
    assert len(panel.features) == 39
    late = frame["year"] >= 2023
    assert frame.loc[late, "mk_onset_1or2"].isna().all()
    assert (frame.loc[late, "upstream_mk_onset_1or2"] == 0).all()  # the upstream trap
    assert frame.loc[~late, "mk_onset_1or2"].notna().all()
    codes = panel.cow_codes()  # the names' COW codes, recorded by runs for `forecast compare`
    assert codes.notna().all() and (codes.to_numpy() == frame["ccode"].to_numpy()).all()


@pytest.mark.realdata
def test_manifest_pins_commit_and_every_file_matches(data_root):
    manifest = load_manifest("ewp-2025")
    assert manifest.commit == "548cad77147d54cb59e529e7d390a6a7bdfe83b5"
    assert len(manifest.files) == 19
    for entry in manifest.files:
        verify_file(manifest, entry.path, data_root)
    assert "%20" in manifest.url(manifest.file("mk-events-master-list-2025.xlsx"))


def test_offline_without_cache_says_where_to_put_files(tmp_path):
    with pytest.raises(
        DataNotAvailableError, match=r"forecast data fetch ewp-2025.*FORECAST_DATA_DIR"
    ):
        load_dataset("ewp-2025", root=tmp_path)


@pytest.mark.realdata
def test_corrupted_cache_file_is_refused(tmp_path, data_root):
    manifest = load_manifest("ewp-2025")
    target = tmp_path / "ewp-2025" / "countrynamesheet_complete.csv"
    target.parent.mkdir()
    target.write_bytes(
        (data_root / "ewp-2025" / "countrynamesheet_complete.csv").read_bytes()[:-10]
    )
    with pytest.raises(ForecastInputError, match="sha256 mismatch"):
        verify_file(manifest, "countrynamesheet_complete.csv", tmp_path)


def _toy_manifest(payload: bytes, declared: bytes | None = None) -> Manifest:
    declared = payload if declared is None else declared
    entry = DataFile("a.csv", "dir/a file.csv", hashlib.sha256(declared).hexdigest(), len(declared))
    return Manifest(
        "toy", "Toy", "cite", "o/r", "c" * 40, "https://x/{commit}/{upstream_path}", (entry,)
    )


class _Response(io.BytesIO):
    pass


def test_fetch_writes_verified_file(tmp_path):
    payload = b"a,b\n1,2\n"
    urls = []
    fetch(
        _toy_manifest(payload),
        root=tmp_path,
        opener=lambda url: urls.append(url) or _Response(payload),
    )
    assert (tmp_path / "toy" / "a.csv").read_bytes() == payload
    assert urls == ["https://x/" + "c" * 40 + "/dir/a%20file.csv"]


@pytest.mark.parametrize("served", [b"a,b\n1,", b"a,b\n1,3\n"], ids=["truncated", "wrong-sha256"])
def test_fetch_never_leaves_partial_file(tmp_path, served):
    manifest = _toy_manifest(b"a,b\n1,2\n")
    with pytest.raises(ForecastInputError, match="download failed verification"):
        fetch(manifest, root=tmp_path, opener=lambda url: _Response(served))
    assert list((tmp_path / "toy").iterdir()) == []


def test_fetch_keeps_a_good_existing_file(tmp_path):
    payload = b"a,b\n1,2\n"
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "a.csv").write_bytes(payload)

    def refuse(url):
        raise AssertionError("no download expected")

    fetch(_toy_manifest(payload), root=tmp_path, opener=refuse)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"a,b\n", "the file has a header but no rows"),
        (b'a,b\n1,2\n3,4,5,6\n"x', "malformed CSV"),
    ],
)
def test_read_table_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "panel.csv"
    path.write_bytes(content)
    with pytest.raises(ForecastInputError, match=rf"panel.csv: {message}"):
        read_table(path)


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(ForecastInputError, match=r"unknown dataset 'nope'.*synthetic-world"):
        load_dataset("nope")


@pytest.mark.realdata
def test_cli_data_show_ewp(capsys):
    assert main(["data", "show", "ewp-2025"]) == 0
    out = capsys.readouterr().out
    assert '"rows": 9463' in out and '"mk_onset_events": 122' in out


def test_cli_error_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path))
    assert main(["data", "show", "ewp-2025"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "forecast data fetch ewp-2025" in err


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _http_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over real HTTP from a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.realdata
def test_fetch_from_a_mirror_over_real_http(tmp_path, data_root, monkeypatch, capsys):
    """`forecast data fetch` end to end through urllib: FORECAST_DATA_MIRROR points at a local
    HTTP server serving the data folder itself; every file is verified and the dataset loads.
    A second fetch, with the server gone, downloads nothing."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FORECAST_DATA_DIR", str(cache))
    with _http_server(data_root) as url:
        monkeypatch.setenv("FORECAST_DATA_MIRROR", url + "/")
        assert main(["data", "fetch", "ewp-2025"]) == 0
    out = capsys.readouterr().out
    manifest = load_manifest("ewp-2025")
    assert f"from mirror {url}\n" in out
    assert out.count("fetched ") == len(manifest.files) == 19
    for entry in manifest.files:
        verify_file(manifest, entry.path, cache)
    assert not list((cache / "ewp-2025").rglob(".*.tmp"))  # no temp file left behind
    assert main(["data", "fetch", "ewp-2025"]) == 0
    out = capsys.readouterr().out
    assert "fetched " not in out and out.count("ok ") == 19
    assert len(load_dataset("ewp-2025", root=cache).frame) == 9463


@pytest.mark.realdata
def test_fetch_refuses_a_corrupted_mirrored_file(tmp_path, data_root, monkeypatch, capsys):
    """Same size, one byte changed: only the sha256 can tell, and it does, in one line."""
    name = "prepared2024predictors-2025-09-03.csv"
    payload = bytearray((data_root / "ewp-2025" / name).read_bytes())
    payload[len(payload) // 2] ^= 1
    (tmp_path / "mirror" / "ewp-2025").mkdir(parents=True)
    (tmp_path / "mirror" / "ewp-2025" / name).write_bytes(bytes(payload))
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "cache"))
    with _http_server(tmp_path / "mirror") as url:
        monkeypatch.setenv("FORECAST_DATA_MIRROR", url)
        assert main(["data", "fetch", "ewp-2025"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"ewp-2025/{name}: download failed verification" in err
    assert "FORECAST_DATA_MIRROR" in err
    assert list((tmp_path / "cache" / "ewp-2025").iterdir()) == []


def test_missing_mirror_file_is_a_one_line_error(tmp_path, monkeypatch):
    manifest = _toy_manifest(b"a,b\n1,2\n")
    with (
        _http_server(tmp_path) as url,
        pytest.raises(
            DataNotAvailableError,
            match=rf"^{url}/toy/a.csv: download failed \(HTTP 404 File not found\); fix: ",
        ),
    ):
        fetch(manifest, root=tmp_path / "cache", mirror=url)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("https://mirror.example/data/", "https://mirror.example/data"),
        ("file:///srv/data", "file:///srv/data"),
        ("/srv/data", "file:///srv/data"),
    ],
)
def test_mirror_env_var(monkeypatch, value, expected):
    monkeypatch.setenv("FORECAST_DATA_MIRROR", value)
    assert data_mirror() == expected


def test_mirror_replaces_the_upstream_location():
    manifest = load_manifest("ewp-2025")
    entry = manifest.file("mk-events-master-list-2025.xlsx")
    assert manifest.url(entry).startswith("https://raw.githubusercontent.com/")
    assert (
        manifest.url(entry, "http://m/x") == "http://m/x/ewp-2025/mk-events-master-list-2025.xlsx"
    )
    assert manifest.url(manifest.file("raw/wdi.csv"), "file:///srv") == (
        "file:///srv/ewp-2025/raw/wdi.csv"
    )
