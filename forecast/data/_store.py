"""Where datasets live on disk, and how they get there: cache dir, sha256, atomic fetch."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from forecast._errors import DataNotAvailableError, input_error
from forecast._files import atomic_path

__all__ = [
    "DataFile",
    "Manifest",
    "data_dir",
    "data_mirror",
    "fetch",
    "load_manifest",
    "manifest_names",
    "sha256_of",
    "verify_file",
]

DATA_DIR_ENV = "FORECAST_DATA_DIR"
MIRROR_ENV = "FORECAST_DATA_MIRROR"


def data_dir() -> Path:
    """Root of the local dataset cache.

    ``$FORECAST_DATA_DIR`` when set, else the user cache dir (``platformdirs``), e.g.
    ``~/.cache/forecast/data``. Each dataset sits in a sub-folder named after it.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("forecast")) / "data"


def data_mirror() -> str | None:
    """Base URL that replaces the upstream location of every download, or None.

    ``$FORECAST_DATA_MIRROR`` when set: an ``http(s)://`` or ``file://`` URL, or a local
    folder. A mirror has the layout of a data folder (``<mirror>/<dataset>/<path>``, what
    :func:`fetch` writes), so serving any :func:`data_dir` over HTTP makes a mirror. Files
    from a mirror are verified against the same pinned sha256 as upstream ones.
    """
    env = os.environ.get(MIRROR_ENV, "").strip()
    if not env:
        return None
    if "://" not in env:
        return Path(env).expanduser().resolve().as_uri()
    return env.rstrip("/")


@dataclass(frozen=True)
class DataFile:
    path: str
    upstream_path: str
    sha256: str
    bytes: int
    repository: str = ""
    """The file's own repository and commit where they differ from the manifest's (a
    dataset gathered from several repositories, e.g. ``ewp-editions``)."""
    commit: str = ""


@dataclass(frozen=True)
class Manifest:
    """Pinned upstream provenance of a downloadable dataset."""

    name: str
    title: str
    citation: str
    repository: str
    commit: str
    url_template: str
    files: tuple[DataFile, ...]

    def url(self, file: DataFile, mirror: str | None = None) -> str:
        """Download URL of ``file``: upstream, or ``<mirror>/<dataset>/<path>``."""
        if mirror:
            return f"{mirror.rstrip('/')}/{urllib.parse.quote(f'{self.name}/{file.path}')}"
        return self.url_template.format(
            repository=file.repository or self.repository,
            commit=file.commit or self.commit,
            upstream_path=urllib.parse.quote(file.upstream_path),
        )

    def file(self, path: str) -> DataFile:
        for item in self.files:
            if item.path == path:
                return item
        raise KeyError(path)

    def local_path(self, path: str, root: Path | None = None) -> Path:
        return (root or data_dir()) / self.name / path


def manifest_names() -> list[str]:
    folder = resources.files("forecast") / "_data" / "manifests"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_manifest(name: str) -> Manifest:
    """Read the shipped manifest of a downloadable dataset."""
    if name not in manifest_names():
        raise input_error(
            f"no downloadable dataset named {name!r}", fix=f"use one of {manifest_names()}"
        )
    text = (resources.files("forecast") / "_data" / "manifests" / f"{name}.yaml").read_text()
    raw = yaml.safe_load(text)
    files = tuple(
        DataFile(
            f["path"],
            f["upstream_path"],
            f["sha256"],
            int(f["bytes"]),
            f.get("repository", ""),
            f.get("commit", ""),
        )
        for f in raw["files"]
    )
    up = raw["upstream"]
    return Manifest(
        raw["name"],
        raw["title"],
        raw["citation"],
        up["repository"],
        up["commit"],
        up["url_template"],
        files,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(manifest: Manifest, path: str, root: Path | None = None) -> Path:
    """Return the local path of ``path`` after checking it exists and its sha256 matches."""
    entry = manifest.file(path)
    local = manifest.local_path(path, root)
    if not local.is_file():
        raise DataNotAvailableError(
            f"{local}: dataset file missing; run `forecast data fetch {manifest.name}` "
            f"(needs network) or place the file there (or set {DATA_DIR_ENV} to a folder "
            f"holding {manifest.name}/{path})"
        )
    actual = sha256_of(local)
    if actual != entry.sha256:
        raise input_error(
            f"sha256 mismatch: expected {entry.sha256}, got {actual}",
            source=str(local),
            fix=f"delete the file and run `forecast data fetch {manifest.name}`",
        )
    return local


Opener = Callable[[str], object]


def fetch(
    manifest: Manifest,
    *,
    root: Path | None = None,
    mirror: str | None = None,
    opener: Opener | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> list[Path]:
    """Download every file of ``manifest`` into the cache, verifying sha256.

    Each file is streamed into a temporary file beside its target and moved into place
    (``os.replace``) only after its size and sha256 match, so a failed or truncated
    download never leaves a partial file. Files already present and verified are kept
    (nothing is downloaded when all are).

    Parameters
    ----------
    manifest : Manifest
        The pinned files, see :func:`load_manifest`.
    root : Path, optional
        Data folder; default :func:`data_dir`.
    mirror : str, optional
        Base URL replacing the upstream location; default :func:`data_mirror`
        (``$FORECAST_DATA_MIRROR``), else upstream.
    opener : callable, optional
        ``url -> response`` (tests); default :func:`urllib.request.urlopen`.
    log : callable, optional
        Receives one line per file.
    """
    opener = opener or (lambda url: urllib.request.urlopen(url, timeout=60))
    mirror = mirror or data_mirror()
    written = []
    for entry in manifest.files:
        target = manifest.local_path(entry.path, root)
        if target.is_file() and sha256_of(target) == entry.sha256:
            log(f"ok      {target}")
            written.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        url = manifest.url(entry, mirror)
        with atomic_path(target) as tmp:  # moved into place only once verified
            digest, size = hashlib.sha256(), 0
            with tmp.open("wb") as out, _open(opener, url) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            if size != entry.bytes or digest.hexdigest() != entry.sha256:
                raise input_error(
                    f"download failed verification: {size} bytes (expected {entry.bytes}), "
                    f"sha256 {digest.hexdigest()} (expected {entry.sha256}) from {url}",
                    source=f"{manifest.name}/{entry.path}",
                    fix=(
                        f"replace the mirror's copy ({MIRROR_ENV}) with the pinned file"
                        if mirror
                        else "retry; if it persists the upstream file changed"
                    ),
                )
        log(f"fetched {target}")
        written.append(target)
    return written


def _open(opener: Opener, url: str) -> Any:
    """``opener(url)``, with network failures turned into a one-line error naming the URL."""
    try:
        return opener(url)
    except urllib.error.URLError as error:
        reason = (
            f"HTTP {error.code} {error.reason}"
            if isinstance(error, urllib.error.HTTPError)
            else error.reason
        )
        raise DataNotAvailableError(
            f"{url}: download failed ({reason}); fix: check the "
            f"network, or set {MIRROR_ENV} to a reachable mirror or folder"
        ) from error
