"""Reader for the IDX file format of MNIST, Fashion-MNIST, Kuzushiji-MNIST and EMNIST.

An IDX file is a big-endian header ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
unsigned 32-bit sizes, then the array's values in C order. Files may be gzip-compressed
(detected from the content, not the name).

References
----------
Paper Sec. 6.1, Table 1 (the MNIST-family datasets are distributed in this format).
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """An IDX file is corrupt, truncated or not of the expected kind."""


def read_idx_bytes(path: str | Path) -> bytes:
    """The raw (decompressed) bytes of an IDX file, plain or gzip-compressed."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise IdxFormatError(
            f"{path}: the gzip stream is corrupt or truncated ({exc}); delete the file and "
            f"download or copy it again"
        ) from None


def parse_idx(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array in native byte order.

    Parameters
    ----------
    data : bytes
        The whole (decompressed) file.
    source : str
        Name used in error messages.

    Returns
    -------
    ndarray, shape given by the header's sizes, dtype given by its type code.

    Raises
    ------
    IdxFormatError
        Bad magic number, unknown type code, or a body whose length does not match the header.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{source}: only {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise IdxFormatError(
            f"{source}: not an IDX file (magic number starts with {data[:2].hex()}, expected 0000)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise IdxFormatError(
            f"{source}: unknown IDX type code 0x{code:02X}; valid codes are "
            f"{', '.join(f'0x{c:02X}' for c in IDX_DTYPES)}"
        )
    if ndim == 0:
        raise IdxFormatError(f"{source}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxFormatError(f"{source}: truncated header ({len(data)} of {header_len} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header_len
    if body < expected:
        raise IdxFormatError(
            f"{source}: truncated file: the header declares shape {shape} ({expected} bytes of "
            f"data) but only {body} bytes follow; download or copy the file again"
        )
    if body > expected:
        raise IdxFormatError(
            f"{source}: {body - expected} unexpected bytes after the {expected} bytes of data "
            f"declared by the header (shape {shape}); the file is corrupt"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path, *, ndim: int | None = None, dtype: np.dtype | type | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip) and optionally check its rank and dtype.

    Parameters
    ----------
    path : path to the file
    ndim : int, optional
        Required number of dimensions (3 for images ``(n, H, W)``, 1 for labels ``(n,)``).
    dtype : numpy dtype, optional
        Required element type (uint8 for the MNIST family).

    Returns
    -------
    ndarray in native byte order.
    """
    array = parse_idx(read_idx_bytes(path), source=str(path))
    if ndim is not None and array.ndim != ndim:
        raise IdxFormatError(f"{path}: expected a {ndim}-dimensional array, found shape {array.shape}")
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise IdxFormatError(f"{path}: expected dtype {np.dtype(dtype)}, found {array.dtype}")
    return array


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, H, W)`` uint8 and labels ``(n,)`` uint8 from two matching IDX files."""
    images = read_idx(images_path, ndim=3, dtype=np.uint8)
    labels = read_idx(labels_path, ndim=1, dtype=np.uint8)
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels; the files do not belong together"
        )
    return images, labels
