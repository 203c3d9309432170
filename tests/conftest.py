import pytest

from tests.support.workers import Workers, broker_flush


@pytest.fixture
def workers(transactional_db):
    """Real worker processes on the test database; flushed broker, all stopped afterwards."""
    broker_flush()
    pool = Workers()
    yield pool
    pool.stop_all()


@pytest.fixture
def worker(workers):
    """One worker (two processes) with the beat scheduler, for tests that just need the engine."""
    workers.start("main", concurrency=2, beat=True)
    return workers
