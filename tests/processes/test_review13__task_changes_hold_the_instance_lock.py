"""Review of issue 13: the bus keeps each instance's events in history order because every
change of an instance's history commits under the instance's row lock. Giving a task to
someone and giving it back did not take it: an assignment committing after a later change
of the same instance went out on the bus after it."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, close_old_connections, connection, transaction

from processes.services import instance_start
from processes.services.advance import instance_lock
from tasks.models import Task
from tasks.services import task_assign, task_claim, task_unclaim
from tests.support.definitions import publish

pytestmark = pytest.mark.django_db(transaction=True)


def holds_instance_lock(change) -> bool:
    """Run `change` in a transaction in another thread and, while it is open, try to lock
    the instance here with a short lock timeout: whether that was refused."""
    inside, done = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                change()
                inside.set()
                done.wait(10)
        finally:
            close_old_connections()

    thread = threading.Thread(target=run)
    thread.start()
    assert inside.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            instance_lock(Task.objects.get().instance_id)
        return False
    except OperationalError:
        return True
    finally:
        done.set()
        thread.join(10)


def test_assigning_and_giving_back_a_task_lock_the_instance():
    boss = User.objects.create_superuser("boss")
    publish("assign-order", [{"id": "do", "type": "user_task", "config": {}}])
    instance_start(definition_key="assign-order")
    task = Task.objects.get()
    assert holds_instance_lock(lambda: task_assign(task=task, assignee=boss, user=boss))
    assert holds_instance_lock(lambda: task_unclaim(task=Task.objects.get(), user=boss))
    assert holds_instance_lock(lambda: task_claim(task=Task.objects.get(), user=boss))
