"""The IDX reader on files written byte by byte in the test."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from diamlib.data.idx import IdxFormatError, parse_idx, read_idx, read_idx_pair


@pytest.mark.parametrize("gz", [False, True])
def test_reads_images_and_labels_plain_and_gzipped(tmp_path, write_idx, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 3], dtype=np.uint8)
    image_path = write_idx(tmp_path / "images-idx3-ubyte", images, gz=gz)
    label_path = write_idx(tmp_path / "labels-idx1-ubyte", labels, gz=gz)
    got_images, got_labels = read_idx_pair(image_path, label_path)
    assert got_images.dtype == np.uint8 and got_images.shape == (2, 3, 4)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, [7, 3])


def test_known_bytes_decode_to_known_values(tmp_path):
    # magic 0x00000801 (uint8, 1 dim), size 3, values 1 2 255
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 255]))
    np.testing.assert_array_equal(read_idx(path), [1, 2, 255])


def test_multibyte_types_are_big_endian(write_idx, tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float32)
    got = read_idx(write_idx(tmp_path / "f", values, gz=False))
    assert got.dtype == np.float32 and got.dtype.byteorder in ("=", "<", "|")
    np.testing.assert_array_equal(got, values)
    ints = np.array([-5, 70000], dtype=np.int32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "i", ints, gz=True)), ints)


def test_gzip_is_detected_from_content_not_name(tmp_path, write_idx):
    plain = write_idx(tmp_path / "x", np.array([4, 5], dtype=np.uint8), gz=True)
    renamed = plain.rename(tmp_path / "no-suffix")
    np.testing.assert_array_equal(read_idx(renamed), [4, 5])


def test_bad_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([1, 2, 0x08, 1, 0, 0, 0, 1, 9]))
    with pytest.raises(IdxFormatError, match="not an IDX file"):
        read_idx(path)


def test_unknown_type_code():
    with pytest.raises(IdxFormatError, match="unknown IDX type code 0x07"):
        parse_idx(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]))


def test_truncated_body_and_header(tmp_path, write_idx):
    path = write_idx(tmp_path / "images", np.zeros((4, 5, 5), dtype=np.uint8), gz=False)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(IdxFormatError, match="truncated file"):
        read_idx(path)
    with pytest.raises(IdxFormatError, match="truncated header"):
        parse_idx(data[:9])
    with pytest.raises(IdxFormatError, match="too short"):
        parse_idx(data[:3])


def test_extra_bytes_are_reported():
    data = bytes([0, 0, 0x08, 1, 0, 0, 0, 2, 1, 2, 3])
    with pytest.raises(IdxFormatError, match="1 unexpected bytes"):
        parse_idx(data)


def test_truncated_gzip_stream(tmp_path, write_idx):
    path = write_idx(tmp_path / "images", np.ones((3, 4, 4), dtype=np.uint8), gz=True)
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(IdxFormatError, match="gzip stream is corrupt or truncated"):
        read_idx(path)


def test_rank_dtype_and_pair_checks(tmp_path, write_idx):
    labels = write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8), gz=False)
    images = write_idx(tmp_path / "images", np.zeros((2, 4, 4), dtype=np.uint8), gz=False)
    wide = write_idx(tmp_path / "wide", np.zeros((2, 4, 4), dtype=np.int16), gz=False)
    with pytest.raises(IdxFormatError, match="expected a 3-dimensional array"):
        read_idx(labels, ndim=3)
    with pytest.raises(IdxFormatError, match="expected dtype uint8"):
        read_idx(wide, dtype=np.uint8)
    with pytest.raises(IdxFormatError, match="2 images but .* 3 labels"):
        read_idx_pair(images, labels)


def test_idx_errors_are_value_errors():
    assert issubclass(IdxFormatError, ValueError)
    with pytest.raises(ValueError):
        parse_idx(gzip.compress(b"xx"))
