"""Migration 0007 gives the tokens that exist before it their holder: their job, their task,
or the join they wait at."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from processes.statuses import TokenHolder

BEFORE = [("processes", "0006_event_variables_updated"), ("tasks", "0001_initial")]
AFTER = [("processes", "0007_token_holder")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration__fills_the_holder_of_existing_tokens_from_their_job_task_or_join():
    apps = migrate(BEFORE)
    try:
        definitions = apps.get_model("processes", "ProcessDefinition").objects
        versions = apps.get_model("processes", "DefinitionVersion").objects
        instances = apps.get_model("processes", "ProcessInstance").objects
        Token = apps.get_model("processes", "Token")
        Job = apps.get_model("processes", "Job")
        Task = apps.get_model("tasks", "Task")
        definition = definitions.create(key="old", name="old")
        version = versions.create(
            definition=definition, number=1, format="json", source="{}", graph={}, checksum="x"
        )
        instance = instances.create(
            id="old-1", definition=definition, definition_version=version, status="running"
        )

        def token(node_id, status="active"):
            return Token.objects.create(instance=instance, node_id=node_id, status=status)

        Job.objects.create(
            instance=instance, token=token("call"), step_id="call", service="s", timeout_seconds=1
        )
        Task.objects.create(instance=instance, token=token("ask"), step_id="ask", name="Ask")
        token("join", status="waiting")
        token("split", status="failed")

        apps = migrate(AFTER)
        holders = apps.get_model("processes", "Token").objects.order_by("id")
        assert list(holders.values_list("node_id", "holder")) == [
            ("call", TokenHolder.JOB),
            ("ask", TokenHolder.TASK),
            ("join", TokenHolder.JOIN),
            ("split", TokenHolder.NOTHING),
        ]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
