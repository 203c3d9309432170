"""The write API of the engine: every state change goes through these functions."""

from processes.services.definitions import definition_publish
from processes.services.instance_migration import MigrationReport, instance_migrate
from processes.services.instances import (
    instance_resume,
    instance_retry,
    instance_start,
    instance_start_or_get,
    instance_suspend,
    instance_terminate,
)
from processes.services.job_runs import job_run
from processes.services.messages import instance_raise_event, message_correlate, signal_broadcast
from processes.services.migration_batches import instances_migrate
from processes.services.purge import instance_purge, instances_purge_expired
from processes.services.repair import instance_variables_update
from processes.services.rollouts import definition_rollback, definition_rollout
from processes.services.sweeper import jobs_sweep
from processes.services.triggers import trigger_start_by_message

__all__ = [
    "MigrationReport",
    "definition_publish",
    "definition_rollback",
    "definition_rollout",
    "instance_migrate",
    "instance_purge",
    "instance_raise_event",
    "instance_resume",
    "instance_retry",
    "instance_start",
    "instance_start_or_get",
    "instance_suspend",
    "instance_terminate",
    "instance_variables_update",
    "instances_migrate",
    "instances_purge_expired",
    "job_run",
    "jobs_sweep",
    "message_correlate",
    "signal_broadcast",
    "trigger_start_by_message",
]
