"""Every status and event name of the engine, in one place."""

from django.db import models


class InstanceStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TokenStatus(models.TextChoices):
    ACTIVE = "active"  # sits on a service or user step that has not finished
    WAITING = "waiting"  # arrived at a join whose other branches have not
    DONE = "done"
    FAILED = "failed"  # the instance failed here; instance_retry picks it up again
    CANCELLED = "cancelled"


class TokenHolder(models.TextChoices):
    """What holds a token at its node: the row whose end moves the token on."""

    NOTHING = "", "nothing"  # failed on its way in, before anything held it
    JOB = "job"  # a service step's Job
    TASK = "task"  # a user step's Task
    JOIN = "join"  # waits at a join for the other branches
    TIMER = "timer"
    SUBSCRIPTION = "subscription"  # a message or signal it waits for
    CHILD = "child"  # a child instance
    # A compensate step's token, until every compensation ran; or a compensation's that
    # failed before its job was made (its input could not be rendered).
    COMPENSATION = "compensation"
    LOOP = "loop"  # a for-each step's own token, until its items are done (a Loop)


class JobStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TimerStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    FIRED = "fired"
    CANCELLED = "cancelled"


class SubscriptionKind(models.TextChoices):
    MESSAGE = "message"
    SIGNAL = "signal"


class SubscriptionStatus(models.TextChoices):
    WAITING = "waiting"
    DELIVERED = "delivered"  # an interrupting catch took its event; a reminder stays waiting
    CANCELLED = "cancelled"


class MessageStatus(models.TextChoices):
    """A message no one waited for when it came, kept for `ttl_seconds`."""

    BUFFERED = "buffered"
    DELIVERED = "delivered"
    EXPIRED = "expired"


class TriggerKind(models.TextChoices):
    """What starts an instance of a definition (its `triggers`)."""

    CRON = "cron"
    EVERY = "every"
    MESSAGE = "message"


class TaskState(models.TextChoices):
    OPEN = "open"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EventType(models.TextChoices):
    WORKFLOW_STARTED = "WORKFLOW_STARTED"
    WORKFLOW_SUSPENDED = "WORKFLOW_SUSPENDED"
    WORKFLOW_RESUMED = "WORKFLOW_RESUMED"
    WORKFLOW_RETRIED = "WORKFLOW_RETRIED"
    WORKFLOW_COMPLETED = "WORKFLOW_COMPLETED"
    WORKFLOW_FAILED = "WORKFLOW_FAILED"
    WORKFLOW_CANCELLED = "WORKFLOW_CANCELLED"
    TASK_SCHEDULED = "TASK_SCHEDULED"
    TASK_COMPLETED = "TASK_COMPLETED"
    TASK_FAILED = "TASK_FAILED"
    TASK_RETRIED = "TASK_RETRIED"
    TASK_CANCELLED = "TASK_CANCELLED"
    TASK_CLAIMED = "TASK_CLAIMED"
    TASK_UNCLAIMED = "TASK_UNCLAIMED"
    TASK_ASSIGNED = "TASK_ASSIGNED"
    GATEWAY_EVALUATED = "GATEWAY_EVALUATED"
    JOIN_COMPLETED = "JOIN_COMPLETED"
    VARIABLES_UPDATED = "VARIABLES_UPDATED"
    TIMER_SCHEDULED = "TIMER_SCHEDULED"
    TIMER_FIRED = "TIMER_FIRED"
    TIMER_CANCELLED = "TIMER_CANCELLED"
    SUBSCRIPTION_OPENED = "SUBSCRIPTION_OPENED"
    SUBSCRIPTION_CANCELLED = "SUBSCRIPTION_CANCELLED"
    MESSAGE_RECEIVED = "MESSAGE_RECEIVED"
    SIGNAL_RECEIVED = "SIGNAL_RECEIVED"
    COMPENSATION_STARTED = "COMPENSATION_STARTED"
    STEP_COMPENSATED = "STEP_COMPENSATED"
    COMPENSATION_COMPLETED = "COMPENSATION_COMPLETED"
    LOOP_STARTED = "LOOP_STARTED"
    LOOP_COMPLETED = "LOOP_COMPLETED"
    INSTANCE_MIGRATED = "INSTANCE_MIGRATED"


class DefinitionFormat(models.TextChoices):
    JSON = "json"
    YAML = "yaml"
