import pytest

from tests.support.workers import Workers, broker_flush


@pytest.fixture(autouse=True)
def _role_groups(request):
    """Transactional tests flush the database between tests, and with it the role groups a
    migration created: put them back (permissions come back with the flush itself)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import roles_install

    roles_install(group_model=Group, permission_model=Permission)


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
