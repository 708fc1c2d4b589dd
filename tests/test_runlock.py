"""zerograd.io.runlock: one holder per folder, however many processes race for it, fresh or over a dead run's lock."""

import os
import subprocess
import sys
import time

import pytest

from zerograd.io.runlock import LOCK_NAME, LockHeldError, RunLock, owner

HELD, REFUSED, DOUBLE, BROKE = 1, 0, 3, 4


def contender(folder, gate):
    """A forked process: waits at the gate, tries the lock once; while it holds it, it claims a marker file that
    only one process at a time can create. Exit code: HELD, REFUSED, DOUBLE (another held it too) or BROKE."""
    code = BROKE
    try:
        os.read(gate, 1)  # returns (EOF) when the parent closes the pipe: every contender starts together
        lock = RunLock(folder)
        try:
            lock.acquire()
        except LockHeldError:
            code = REFUSED
        else:
            try:
                marker = os.open(folder / "holder", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                code = DOUBLE
            else:
                time.sleep(0.01)
                os.close(marker)
                os.unlink(folder / "holder")
                code = HELD
            lock.release()
    finally:
        os._exit(code)


def race(folder, processes=8):
    read, write = os.pipe()
    pids = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            os.close(write)
            contender(folder, read)
        pids.append(pid)
    os.close(read)
    time.sleep(0.02)  # all forked and waiting
    os.close(write)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the race forks its contenders")
@pytest.mark.parametrize("stale", [False, True], ids=["fresh folder", "stale lock of a dead run"])
def test_eight_racing_processes_never_make_two_holders(tmp_path, stale):
    """On the pid-file lock: >= 2 holders in 11 of 40 fresh trials and 21 of 40 with a stale lock."""
    doubles = []
    for trial in range(40):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        if stale:
            (folder / LOCK_NAME).write_text(f"{dead_pid() if trial == 0 else 2**22 + trial}\n")
        codes = race(folder)
        assert BROKE not in codes, codes
        if DOUBLE in codes:
            doubles.append(trial)
        assert HELD in codes or DOUBLE in codes, codes  # someone got it
        assert not (folder / LOCK_NAME).exists() and not (folder / "holder").exists()
    assert not doubles, f"two holders at once in trials {doubles}"


def test_a_live_holder_is_named_and_its_lock_kept(tmp_path):
    code = (
        "import sys, time; from zerograd.io.runlock import RunLock; RunLock(sys.argv[1]).acquire(); "
        "print(1, flush=True); time.sleep(60)"
    )
    other = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "1"
        with pytest.raises(LockHeldError, match=f"in use by another zerograd run \\(pid {other.pid}"):
            RunLock(tmp_path).acquire()
        assert owner(tmp_path) == other.pid and (tmp_path / LOCK_NAME).exists()
    finally:
        other.kill()
        other.wait()
    # killed: the kernel dropped its lock, so the folder is free at once, without judging pids
    with RunLock(tmp_path) as lock:
        assert lock.held and owner(tmp_path) == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_file_with_a_live_pid_but_no_holder_is_taken(tmp_path):
    """The pid is for people: a file left by a crashed run whose pid now belongs to another process is free."""
    (tmp_path / LOCK_NAME).write_text(f"{os.getppid()}\n")
    with RunLock(tmp_path):
        assert owner(tmp_path) == os.getpid()


def test_without_fcntl_the_lock_is_created_with_its_pid_in_one_step(tmp_path, monkeypatch):
    """Windows has no flock: the file is link()-ed into place already holding the pid, and a leftover is reported."""
    from zerograd.io import runlock

    monkeypatch.setattr(runlock, "fcntl", None)
    with RunLock(tmp_path):
        assert owner(tmp_path) == os.getpid() and os.listdir(tmp_path) == [LOCK_NAME]
        with pytest.raises(LockHeldError, match="delete the file"):
            RunLock(tmp_path).acquire()
    assert os.listdir(tmp_path) == []
