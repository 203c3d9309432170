"""GET /health: 200 when database, broker and a worker answer; 503 naming what does not."""

import shutil
import socket
import subprocess

import pytest
from django.test import override_settings

from tests.support.workers import wait_for

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A Redis server of the test's own, so stopping it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    redis.start()
    yield redis
    if redis.proc.poll() is None:
        redis.stop()


def test_health__ok_with_database_broker_and_a_worker(worker, client):
    response = wait_for(
        lambda: (r := client.get("/health")).status_code == 200 and r, what="a healthy answer"
    )
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "workers"}
    assert body["checks"]["workers"].startswith("ok (1 alive)")


def test_health__no_worker_is_503_naming_workers(transactional_db, client):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["failing"] == ["workers"]


def test_health__broker_stopped_is_503_naming_it_and_200_once_back(worker, client, private_redis):
    with override_settings(CELERY_BROKER_URL=private_redis.url):
        wait_for(lambda: client.get("/health").status_code == 200, what="a healthy start")
        private_redis.stop()
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["failing"] == ["broker"]
        assert "failing" in response.json()["checks"]["broker"]
        private_redis.start()
        wait_for(lambda: client.get("/health").status_code == 200, what="the broker to be back")
