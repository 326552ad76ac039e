"""Files written whole or not at all, and read with errors that name the file.

Every file the library or the `gru-bif` command writes (JSON, `.npz`, figures) goes
through `atomic_path`: the data goes to a temporary file in the same folder, which is
renamed onto the target only once it is complete. A run that stops half-way (an error,
Ctrl-C, a full disk) leaves the old file, or none, never a truncated one.
"""

import contextlib
import json
import os
import pathlib
from typing import Any


@contextlib.contextmanager
def atomic_path(path: "str | os.PathLike"):
    """Yield a temporary path next to `path` (same suffix, so writers that look at the
    suffix still see it); on success it is renamed onto `path`, on an error removed."""
    path = pathlib.Path(os.fspath(path))
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: "str | os.PathLike", data: "str | bytes") -> None:
    """Write text or bytes to `path` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data)


def savefig_atomic(fig, path: "str | os.PathLike", **kwargs) -> None:
    """`fig.savefig(path, **kwargs)` through a temporary file and a rename. The format
    comes from the suffix (matplotlib's default format where there is none); the file
    is written under exactly the name given."""
    import matplotlib

    suffix = pathlib.Path(os.fspath(path)).suffix
    fmt = kwargs.pop("format", None) or suffix[1:].lower() or matplotlib.rcParams[
        "savefig.format"]
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, **kwargs)


def read_json(path: "str | os.PathLike", what: str) -> Any:
    """Parse the JSON file `path`; `ValueError` naming the file (and `what` it should
    hold) if it cannot be read as JSON. A missing file raises `FileNotFoundError`."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{path}: not a text file ({e.reason} at byte {e.start}); expected {what} "
            "as JSON."
        ) from e
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
            f"expected {what}. Was the file cut short or edited by hand?"
        ) from e
