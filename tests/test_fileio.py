"""zerograd.io.fileio: the one atomic writer — all or nothing, 0o644, no temporary file left after any failure."""

import errno
import os
import stat

import numpy as np
import pytest

from zerograd.io import fileio


def test_writes_replace_the_file_whole_with_mode_644(tmp_path):
    path = tmp_path / "a.txt"
    fileio.write_text(path, "old\n")
    fileio.write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert fileio.temp_files(tmp_path, "a.txt") == []


def test_savez_through_atomic_open_round_trips(tmp_path):
    with fileio.atomic_open(tmp_path / "sub" / "x.npz", make_dirs=True) as f:
        np.savez(f, a=np.arange(3))
    with np.load(tmp_path / "sub" / "x.npz") as z:
        assert z["a"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("failure", ["write", "fsync", "interrupt"])
def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"the last good one")
    full = OSError(errno.ENOSPC, "No space left on device")
    if failure == "fsync":
        monkeypatch.setattr(fileio.os, "fsync", lambda fd: (_ for _ in ()).throw(full))
    with pytest.raises(KeyboardInterrupt if failure == "interrupt" else OSError):
        with fileio.atomic_open(path) as f:
            f.write(b"half of a new one")
            if failure == "write":
                raise full
            if failure == "interrupt":
                raise KeyboardInterrupt
    assert path.read_bytes() == b"the last good one"
    assert fileio.temp_files(tmp_path, "checkpoint.npz") == [] and sorted(os.listdir(tmp_path)) == [path.name]


def test_every_writer_goes_through_fileio():
    """No module but fileio makes temporary files or renames over targets itself (five did, five ways)."""
    from pathlib import Path

    src = Path(fileio.__file__).parent.parent  # the whole package: fileio lives in zerograd/io
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "fileio.py" and ("mkstemp" in p.read_text() or "os.replace(" in p.read_text())
    ]
    # commands/common.py probes a folder's writability with mkstemp (and removes the probe): not a writer
    assert offenders == ["commands/common.py"]
