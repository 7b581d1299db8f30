"""Atomic replacement: a failed write leaves the old file and no temporary behind."""

import pytest

from pdedsl.files import replacing


def test_a_finished_write_replaces_the_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with replacing(path) as handle:
        handle.write(b"new")
        assert path.read_bytes() == b"old"  # not before the block ends
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with replacing(path) as handle:
            handle.write(b"half")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
