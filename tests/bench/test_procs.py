"""Which processes are the API's: its CPU share is the time of the server and all it started."""

from __future__ import annotations

import os

from load.procs import Stat, descendants, stat


def tree(*edges: tuple[int, int]) -> dict[int, Stat]:
    return {pid: Stat(pid, parent, f"p{pid}", 0.0) for pid, parent in edges}


def test_descendants_are_children_and_their_children() -> None:
    # 10 is the supervisor; 11 and 12 its workers; 13 a worker's child; 20 someone else's.
    stats = tree((1, 0), (10, 1), (11, 10), (12, 10), (13, 11), (20, 1), (21, 20))

    assert sorted(descendants(10, stats)) == [11, 12, 13]
    assert descendants(13, stats) == []
    assert descendants(99, stats) == []


def test_this_process_reads_from_proc() -> None:
    found = stat(os.getpid())

    assert found is not None
    assert found.pid == os.getpid()
    assert found.parent == os.getppid()
    assert found.cpu_seconds >= 0
    assert os.getpid() in descendants(os.getppid())
