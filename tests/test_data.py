import hashlib
import io

import pytest

from forecast import DataNotAvailableError, ForecastInputError
from forecast.cli import main
from forecast.data import load_dataset, load_manifest
from forecast.data._files import read_table
from forecast.data._store import DataFile, Manifest, fetch, verify_file


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


def test_manifest_pins_commit_and_every_file_matches(data_root):
    manifest = load_manifest("ewp-2025")
    assert manifest.commit == "548cad77147d54cb59e529e7d390a6a7bdfe83b5"
    assert len(manifest.files) == 19
    for entry in manifest.files:
        verify_file(manifest, entry.path, data_root)
    assert "%20" in manifest.url(manifest.file("mk-events-master-list-2025.xlsx"))


def test_offline_without_cache_says_where_to_put_files(tmp_path):
    with pytest.raises(DataNotAvailableError, match=r"forecast data fetch ewp-2025.*FORECAST_DATA_DIR"):
        load_dataset("ewp-2025", root=tmp_path)


def test_corrupted_cache_file_is_refused(tmp_path, data_root):
    manifest = load_manifest("ewp-2025")
    target = tmp_path / "ewp-2025" / "countrynamesheet_complete.csv"
    target.parent.mkdir()
    target.write_bytes((data_root / "ewp-2025" / "countrynamesheet_complete.csv").read_bytes()[:-10])
    with pytest.raises(ForecastInputError, match="sha256 mismatch"):
        verify_file(manifest, "countrynamesheet_complete.csv", tmp_path)


def _toy_manifest(payload: bytes, declared: bytes | None = None) -> Manifest:
    declared = payload if declared is None else declared
    entry = DataFile("a.csv", "dir/a file.csv", hashlib.sha256(declared).hexdigest(), len(declared))
    return Manifest("toy", "Toy", "cite", "o/r", "c" * 40, "https://x/{commit}/{upstream_path}", (entry,))


class _Response(io.BytesIO):
    pass


def test_fetch_writes_verified_file(tmp_path):
    payload = b"a,b\n1,2\n"
    urls = []
    fetch(_toy_manifest(payload), root=tmp_path, opener=lambda url: urls.append(url) or _Response(payload))
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
    [(b"", "the file is empty"), (b"a,b\n", "the file has a header but no rows"),
     (b'a,b\n1,2\n3,4,5,6\n"x', "malformed CSV")],
)
def test_read_table_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "panel.csv"
    path.write_bytes(content)
    with pytest.raises(ForecastInputError, match=rf"panel.csv: {message}"):
        read_table(path)


def test_unknown_dataset_lists_valid_ones():
    with pytest.raises(ForecastInputError, match=r"unknown dataset 'nope'.*synthetic-world"):
        load_dataset("nope")


def test_cli_data_show_ewp(capsys):
    assert main(["data", "show", "ewp-2025"]) == 0
    out = capsys.readouterr().out
    assert '"rows": 9463' in out and '"mk_onset_events": 122' in out


def test_cli_error_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path))
    assert main(["data", "show", "ewp-2025"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "forecast data fetch ewp-2025" in err


def test_fetch_over_real_http_from_a_local_server(tmp_path, data_root, monkeypatch, capsys):
    """`forecast data fetch` end to end through urllib, against a local HTTP server that serves
    the upstream layout; then the dataset loads from the fresh cache."""
    import functools
    import http.server
    import threading

    upstream = tmp_path / "upstream" / ("c" * 40)
    real = load_manifest("ewp-2025")
    for entry in real.files:
        target = upstream / entry.upstream_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((data_root / "ewp-2025" / entry.path).read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path / "upstream"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        local = Manifest(real.name, real.title, real.citation, real.repository, "c" * 40,
                         f"http://127.0.0.1:{server.server_port}/{{commit}}/{{upstream_path}}",
                         real.files)
        import forecast.data

        monkeypatch.setattr(forecast.data, "load_manifest", lambda name: local)
        monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "cache"))
        assert main(["data", "fetch", "ewp-2025"]) == 0
    finally:
        server.shutdown()
    assert "fetched" in capsys.readouterr().out
    panel = load_dataset("ewp-2025", root=tmp_path / "cache")
    assert len(panel.frame) == 9463
    assert not list((tmp_path / "cache" / "ewp-2025").rglob(".partial-*"))
