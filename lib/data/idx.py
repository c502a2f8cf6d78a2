"""IDX, the file format of MNIST: reading one (gzipped or not, its size, header and length checked) and writing one."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from lib.messages import Problem, msg

MAX_IDX_BYTES = 64 * 2**20  # the largest official file, train-images-idx3-ubyte, is 47,040,016 bytes


def _read_capped(path: Path) -> bytes:
    """An IDX file's bytes, decompressed if it is .gz; more than MAX_IDX_BYTES is refused (a gzip bomb stops there)."""
    def too_big() -> Problem:
        return Problem(msg("data.too_big", path=str(path), limit=MAX_IDX_BYTES // 2**20))

    if path.suffix != ".gz":
        if path.stat().st_size > MAX_IDX_BYTES:
            raise too_big()
        return path.read_bytes()
    chunks, size = [], 0
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(2**20):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_IDX_BYTES:
                    raise too_big()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # damaged or cut short; other OSErrors go up as such
        raise Problem(msg("data.bad_gzip", path=str(path), detail=str(exc)[:120])) from None
    return b"".join(chunks)


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally .gz) into a numpy array, checking its size, header and length."""
    raw = _read_capped(path)
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or not 1 <= raw[3] <= 3 or len(raw) < 4 + 4 * raw[3]:
        raise Problem(msg("data.not_idx", path=str(path)))
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims, dtype=object)):
        raise Problem(msg("data.truncated", path=str(path), size=body.size, shape=tuple(dims)))
    return body.reshape(dims)


def idx_bytes(array: np.ndarray) -> bytes:
    """A uint8 array as an IDX file: magic 0x0000 08 <ndim>, big-endian dims, then the bytes."""
    head = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return head + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_gz(path: Path, raw: bytes) -> None:
    """gzip without a timestamp or a file name, so rebuilding gives byte-identical files."""
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(raw)
