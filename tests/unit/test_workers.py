"""WorkerRegistry (§5.5): placement, states, limits, release and cleanup, without a server."""

from datetime import timedelta

import pytest

from ewallet.clock import ManualClock
from ewallet.protocol.errors import Capacity
from ewallet.scheduling.worker_registry import FULL, IN_USE, VACANT, WorkerRegistry


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def pool(clock: ManualClock, workers: int = 2, sessions: int = 2) -> WorkerRegistry:
    return WorkerRegistry(worker_limit=workers, session_limit=sessions, now=clock.now)


def states(workers: WorkerRegistry) -> dict[int, int]:
    return {view.id: view.state_code for view in workers.snapshot()}


class TestPlacement:
    def test_starts_empty(self, clock: ManualClock) -> None:
        assert pool(clock).snapshot() == []

    def test_fills_the_first_worker_before_starting_another(self, clock: ManualClock) -> None:
        workers = pool(clock)
        later = clock.now() + timedelta(hours=1)
        assert [workers.assign(sid, later) for sid in (1, 2, 3, 4)] == [1, 1, 2, 2]
        assert states(workers) == {1: FULL, 2: FULL}

    def test_moves_from_vacant_to_in_use_to_full(self, clock: ManualClock) -> None:
        workers = pool(clock)
        later = clock.now() + timedelta(hours=1)
        worker = workers.new_worker()
        assert states(workers) == {worker: VACANT}
        workers.assign(1, later)
        assert states(workers) == {worker: IN_USE}
        workers.assign(2, later)
        assert states(workers) == {worker: FULL}

    def test_refuses_a_new_session_when_every_worker_is_full(self, clock: ManualClock) -> None:
        workers = pool(clock)
        later = clock.now() + timedelta(hours=1)
        for sid in range(1, 5):
            workers.assign(sid, later)
        with pytest.raises(Capacity):
            workers.assign(5, later)
        assert workers.worker_of(5) is None

    def test_refuses_a_worker_beyond_the_limit(self, clock: ManualClock) -> None:
        workers = pool(clock)
        workers.new_worker()
        workers.new_worker()
        with pytest.raises(Capacity):
            workers.new_worker()

    def test_adopts_a_known_session_even_when_every_worker_is_full(self, clock: ManualClock) -> None:
        workers = pool(clock, workers=1, sessions=1)
        later = clock.now() + timedelta(hours=1)
        workers.assign(1, later)
        assert workers.adopt(2, later) == 1
        assert workers.adopt(1, later) == 1

    def test_expired_sessions_do_not_count(self, clock: ManualClock) -> None:
        workers = pool(clock, workers=1, sessions=1)
        workers.assign(1, clock.now() + timedelta(minutes=1))
        clock.advance(minutes=2)
        assert states(workers) == {1: VACANT}
        assert workers.assign(2, clock.now() + timedelta(hours=1)) == 1


class TestRelease:
    def test_an_emptied_worker_goes_back_to_vacant(self, clock: ManualClock) -> None:
        workers = pool(clock)
        later = clock.now() + timedelta(hours=1)
        workers.assign(1, later)
        workers.release(1)
        assert states(workers) == {1: VACANT}
        assert workers.worker_of(1) is None

    def test_a_full_worker_takes_sessions_again_after_a_release(self, clock: ManualClock) -> None:
        workers = pool(clock, workers=1)
        later = clock.now() + timedelta(hours=1)
        workers.assign(1, later)
        workers.assign(2, later)
        workers.release(1)
        assert workers.assign(3, later) == 1

    def test_records_when_the_state_changed(self, clock: ManualClock) -> None:
        workers = pool(clock)
        workers.assign(1, clock.now() + timedelta(hours=1))
        changed = clock.advance(seconds=30)
        workers.release(1)
        assert workers.snapshot()[0].state_timestamp == changed

    def test_releasing_an_unknown_session_changes_nothing(self, clock: ManualClock) -> None:
        workers = pool(clock)
        workers.assign(1, clock.now() + timedelta(hours=1))
        workers.release(99)
        assert states(workers) == {1: IN_USE}


class TestCleanup:
    def test_keeps_the_lowest_vacant_worker_as_reserved(self, clock: ManualClock) -> None:
        workers = pool(clock, workers=5)
        for _ in range(4):
            workers.new_worker()
        workers.assign(1, clock.now() + timedelta(hours=1))  # on worker 1
        assert workers.cleanup() == (2, 2, [1, 2])

    def test_reserves_nothing_when_no_worker_is_vacant(self, clock: ManualClock) -> None:
        workers = pool(clock)
        workers.assign(1, clock.now() + timedelta(hours=1))
        assert workers.cleanup() == (0, None, [1])

    def test_prune_forgets_expired_sessions(self, clock: ManualClock) -> None:
        workers = pool(clock)
        workers.assign(1, clock.now() + timedelta(minutes=1))
        workers.assign(2, clock.now() + timedelta(hours=1))
        clock.advance(minutes=5)
        assert workers.prune_expired() == 1
        assert workers.worker_of(1) is None
        assert workers.snapshot()[0].sessions == (2,)
