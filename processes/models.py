"""Definitions, their immutable versions, instances, tokens, jobs and the history.

Lifecycles are django-fsm transitions with protected fields: a status only changes through
the transition methods, and the services in `processes.services` call them under a lock.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from processes.dsl.graph import Graph
from processes.statuses import (
    DefinitionFormat,
    EventType,
    InstanceStatus,
    JobStatus,
    MessageStatus,
    SubscriptionKind,
    SubscriptionStatus,
    TimerStatus,
    TokenHolder,
    TokenStatus,
    TriggerKind,
)

INSTANCE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def new_instance_id() -> str:
    return str(uuid.uuid4())


class ProcessDefinition(models.Model):
    """A process by its key; what runs is one of its `versions`."""

    key = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Where a start by key goes: the pinned `default_version` (null: the latest), or, while
    # a `rollout` runs, its version for its share of new instances (`processes.services.
    # rollouts`).
    default_version = models.ForeignKey(
        "DefinitionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rollout = models.ForeignKey(
        "Rollout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("key",)
        permissions = (("start_processdefinition", "Can start instances of this definition"),)

    def __str__(self) -> str:
        return self.key


class DefinitionVersion(models.Model):
    """One published, immutable version: the source as written and the graph it compiled to."""

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    format = models.CharField(max_length=8, choices=DefinitionFormat.choices)
    source = models.TextField()
    graph = models.JSONField()
    checksum = models.CharField(max_length=64)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("definition", "-number")
        constraints = (
            models.UniqueConstraint(fields=("definition", "number"), name="version_number_unique"),
        )

    def __str__(self) -> str:
        return f"{self.definition_id and self.definition.key} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("a published definition version is immutable")
        super().save(*args, **kwargs)


class Rollout(models.Model):
    """A version rolled out to a share of new instances: a start by key goes to `version`
    when a stable hash of the new instance's id falls under `percent`, else to `previous`.
    The rows stay as the definition's history of rollouts; its `rollout` is the running one."""

    class Status(models.TextChoices):
        RUNNING = "running"
        PROMOTED = "promoted"  # every new start goes to `version`
        ROLLED_BACK = "rolled_back"  # every new start goes to `previous`
        REPLACED = "replaced"  # another rollout of the definition followed

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.CASCADE, related_name="rollouts"
    )
    version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="+")
    previous = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="+")
    percent = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    strategy = models.CharField(max_length=16, default="gradual")  # or "immediate"
    changes = models.JSONField(default=list, blank=True)  # a WorkflowVersion's change list
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"{self.definition_id}: v{self.version_id} at {self.percent}% ({self.status})"


_GRAPH_CACHE: dict[int, Graph] = {}


def graph_of_version(version_id: int, scope: str = "") -> Graph:
    """Versions never change, so each process keeps the parsed graph of the ones it ran.
    `scope` names a map step whose items' graph is wanted (`Graph.scope`)."""
    graph = _GRAPH_CACHE.get(version_id)
    if graph is None:
        raw = DefinitionVersion.objects.values_list("graph", flat=True).get(pk=version_id)
        graph = _GRAPH_CACHE[version_id] = Graph.from_dict(raw)
    return graph.scope(scope) if scope else graph


def graphs_of_versions(version_ids: set[int]) -> dict[int, Graph]:
    """`graph_of_version` for a page of rows: the versions not cached yet in one query."""
    missing = version_ids - _GRAPH_CACHE.keys()
    if missing:
        rows = DefinitionVersion.objects.filter(pk__in=missing).values_list("pk", "graph")
        _GRAPH_CACHE.update((pk, Graph.from_dict(raw)) for pk, raw in rows)
    return {version_id: _GRAPH_CACHE[version_id] for version_id in version_ids}


class ProcessInstance(FSMModelMixin, models.Model):
    id = models.CharField(
        primary_key=True,
        max_length=64,
        default=new_instance_id,
        validators=[RegexValidator(INSTANCE_ID_PATTERN)],
    )
    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.PROTECT, related_name="instances"
    )
    definition_version = models.ForeignKey(
        DefinitionVersion, on_delete=models.PROTECT, related_name="instances"
    )
    status = FSMField(
        default=InstanceStatus.PENDING,
        choices=InstanceStatus.choices,
        protected=True,
        db_index=True,
    )
    variables = models.JSONField(default=dict, blank=True)
    # Searched by part through a trigram index on PostgreSQL (migration 0005, outside the
    # models' state: SQLite has no such index).
    business_key = models.CharField(max_length=200, blank=True, db_index=True)
    # Indexed by instance_started_by_recent, whose first column it is.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Tokens still on a service or user step; when it drops to zero the instance may be done.
    active_tokens = models.PositiveIntegerField(default=0)
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # A child instance: the instance whose subprocess step `parent_step` started it, and
    # the token there that waits for it (cleared when a retry gives the token a new child).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Defaults in the database too: rows written by older code or by SQL (a rolling deploy,
    # bench/instances_list.py) leave these columns out.
    parent_step = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Indexed by instance_waited_child (partial: most instances are no child).
    parent_token = models.ForeignKey(
        "Token",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,
    )
    depth = models.PositiveSmallIntegerField(default=0, db_default=0)  # 0: not a child
    # A map step's item: the path of map steps whose iterator it runs ("" for a whole
    # definition); see `Graph.scope`.
    scope = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ("-created_at",)
        indexes = (
            # A person's instances, newest first (the cases page), read from the index alone.
            models.Index(
                fields=("started_by", "created_at", "id"), name="instance_started_by_recent"
            ),
            models.Index(
                fields=("parent_token",),
                condition=Q(parent_token__isnull=False),
                name="instance_waited_child",
            ),
            # The retention job's candidates, oldest first: finished top-level instances.
            # Never on `updated_at`, which every step changes: an index naming it would make
            # every update of the row a non-HOT one (measured: 47% HOT -> 0%).
            models.Index(
                fields=("ended_at",),
                condition=Q(
                    status__in=(
                        InstanceStatus.COMPLETED,
                        InstanceStatus.FAILED,
                        InstanceStatus.CANCELLED,
                    ),
                    parent__isnull=True,
                ),
                name="instance_finished",
            ),
        )

    def __str__(self) -> str:
        return self.id

    @transition(field=status, source=InstanceStatus.PENDING, target=InstanceStatus.RUNNING)
    def start(self) -> None:
        pass

    @transition(field=status, source=InstanceStatus.RUNNING, target=InstanceStatus.SUSPENDED)
    def suspend(self) -> None:
        pass

    @transition(field=status, source=InstanceStatus.SUSPENDED, target=InstanceStatus.RUNNING)
    def resume(self) -> None:
        pass

    @transition(field=status, source=InstanceStatus.RUNNING, target=InstanceStatus.COMPLETED)
    def complete(self) -> None:
        self.ended_at = timezone.now()

    @transition(field=status, source=InstanceStatus.RUNNING, target=InstanceStatus.FAILED)
    def fail(self, *, error: dict) -> None:
        """It stopped here (until a retry): `ended_at` says since when."""
        self.error = error
        self.ended_at = timezone.now()

    @transition(field=status, source=InstanceStatus.FAILED, target=InstanceStatus.RUNNING)
    def retry(self) -> None:
        self.error = None
        self.ended_at = None

    @transition(
        field=status,
        source=(
            InstanceStatus.PENDING,
            InstanceStatus.RUNNING,
            InstanceStatus.SUSPENDED,
            InstanceStatus.FAILED,
        ),
        target=InstanceStatus.CANCELLED,
    )
    def terminate(self) -> None:
        self.ended_at = timezone.now()

    @transition(
        field=status,
        source=(InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.FAILED),
        target=InstanceStatus.RUNNING,
    )
    def unwind(self) -> None:
        """Terminate with compensation: the instance runs (only) its compensations, and is
        cancelled when they are done."""
        self.ended_at = None

    @property
    def graph(self) -> Graph:
        return graph_of_version(self.definition_version_id, self.scope)


class Token(FSMModelMixin, models.Model):
    """Where the instance is: one row per visit of a step that waits (or a join arrival).

    `holder` says what holds the token there, set when it is placed. Its status changes
    only through the transitions below; the engine's bulk statements take what a transition
    sets from `transition_changes`, so the transition stays the one definition of it.
    """

    # Indexed by token_instance_status, whose first column it is.
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="tokens", db_index=False
    )
    node_id = models.CharField(max_length=200)
    status = FSMField(
        max_length=16, default=TokenStatus.ACTIVE, choices=TokenStatus.choices, protected=True
    )
    holder = models.CharField(
        max_length=16, choices=TokenHolder.choices, blank=True, default=TokenHolder.NOTHING
    )
    arrived_from = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # An item of a for-each step: the step's Loop and the item's place in its list.
    # Indexed by token_loop_item (partial: most tokens are no item).
    loop = models.ForeignKey(
        "Loop",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="item_tokens",
        db_index=False,
    )
    loop_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(fields=("instance", "status"), name="token_instance_status"),
            models.Index(
                fields=("loop", "status"), condition=Q(loop__isnull=False), name="token_loop_item"
            ),
        )

    def __str__(self) -> str:
        return f"{self.instance_id}@{self.node_id} ({self.status})"

    TRANSITION_FIELDS = ("status", "ended_at")  # all that any transition of a token sets

    @transition(
        field=status, source=(TokenStatus.ACTIVE, TokenStatus.WAITING), target=TokenStatus.DONE
    )
    def end(self) -> None:
        """What held it is done (its step, or the join it waited at)."""
        self.ended_at = timezone.now()

    @transition(field=status, source=TokenStatus.ACTIVE, target=TokenStatus.FAILED)
    def fail(self) -> None:
        """The instance fails here; an operator's retry takes the token up again."""
        self.ended_at = timezone.now()

    @transition(
        field=status,
        source=(TokenStatus.ACTIVE, TokenStatus.WAITING, TokenStatus.FAILED),
        target=TokenStatus.CANCELLED,
    )
    def cancel(self) -> None:
        self.ended_at = timezone.now()

    @transition(field=status, source=TokenStatus.FAILED, target=TokenStatus.ACTIVE)
    def reactivate(self) -> None:
        """An operator's retry runs the step that failed here once more."""
        self.ended_at = None

    @classmethod
    def transition_sources(cls, name: str) -> tuple[str, ...]:
        """The statuses transition `name` leaves."""
        return tuple(getattr(cls, name)._django_fsm.transitions)

    @classmethod
    def transition_changes(cls, name: str) -> dict[str, Any]:
        """What transition `name` sets, for one UPDATE of rows in its sources: a token
        transition sets the same from each of them."""
        token = cls(status=cls.transition_sources(name)[0])
        getattr(token, name)()
        return {field: getattr(token, field) for field in cls.TRANSITION_FIELDS}


class Loop(models.Model):
    """A for-each step in progress: the list its items come from and how far it got.

    Its `token` rests at the step for as long as the step runs (and carries the step's
    boundary events); each item's own token (`Token.loop`) is held by the item's job, task
    or child. Changed only under the instance's row lock.
    """

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="loops")
    token = models.OneToOneField(Token, on_delete=models.CASCADE, related_name="loop_body")
    step_id = models.CharField(max_length=200)
    items = models.JSONField(default=list)
    total = models.PositiveIntegerField()
    started = models.PositiveIntegerField(default=0)  # items started, in list order
    completed = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)  # started and not yet completed
    # By item index (as text), each one's result, kept when the step collects them; and
    # their size as JSON, which the instance's variables must be able to take.
    results = models.JSONField(default=dict)
    results_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.instance_id}@{self.step_id}: {self.completed} of {self.total} done"


class Job(FSMModelMixin, models.Model):
    """A service step's work: the row is the truth, the broker only carries its id.

    A worker leases a scheduled job (`lease_token`, `lease_expires_at`); only the holder of
    the current lease may report its outcome, so a duplicate or late delivery does nothing.
    """

    # Indexed by job_instance: db_index would add a second, LIKE-pattern index on the key.
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="jobs", db_index=False
    )
    token = models.OneToOneField(Token, on_delete=models.CASCADE, related_name="job")
    step_id = models.CharField(max_length=200)
    service = models.CharField(max_length=200)
    input = models.JSONField(default=dict, blank=True)
    status = FSMField(default=JobStatus.SCHEDULED, choices=JobStatus.choices, protected=True)
    attempt = models.PositiveIntegerField(default=1)
    timeout_seconds = models.FloatField()
    due_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_losses = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A compensation's job: the TASK_COMPLETED event of the step it undoes (its `step_id`),
    # run by the compensation's service with the compensation's retry rules.
    compensates = models.ForeignKey(
        "Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        ordering = ("id",)
        # Partial: a finished job leaves them, so completing a step updates no index of
        # these, and they stay as small as the work in flight.
        indexes = (
            models.Index(fields=("instance",), name="job_instance"),
            models.Index(fields=("due_at",), condition=Q(status="scheduled"), name="job_due"),
            models.Index(
                fields=("lease_expires_at",), condition=Q(status="running"), name="job_leased"
            ),
            models.Index(
                fields=("-finished_at",), condition=Q(status="failed"), name="job_failed_recent"
            ),
            # Deleting events (a purge) checks that no compensation's job points at them:
            # without an index that is a scan of the jobs per event.
            models.Index(
                fields=("compensates",),
                condition=Q(compensates__isnull=False),
                name="job_compensates",
            ),
        )

    def __str__(self) -> str:
        return f"job {self.pk} {self.service} ({self.status})"

    LEASE_FIELDS = ("status", "lease_token", "started_at", "lease_expires_at")  # what lease sets

    @transition(field=status, source=JobStatus.SCHEDULED, target=JobStatus.RUNNING)
    def lease(self, *, token: uuid.UUID, grace_seconds: float) -> None:
        now = timezone.now()
        self.lease_token = token
        self.started_at = now
        self.lease_expires_at = now + timedelta(seconds=self.timeout_seconds + grace_seconds)

    SUCCESS_FIELDS = ("status", "result", "finished_at", "lease_token")  # what succeed sets

    @transition(field=status, source=JobStatus.RUNNING, target=JobStatus.SUCCEEDED)
    def succeed(self, *, result: dict) -> None:
        self.result = result
        self.finished_at = timezone.now()
        self.lease_token = None

    @transition(field=status, source=JobStatus.RUNNING, target=JobStatus.FAILED)
    def fail(self, *, error: str, message: str, traceback: str) -> None:
        self.error, self.error_message, self.traceback = error, message, traceback
        self.finished_at = timezone.now()
        self.lease_token = None

    @transition(
        field=status, source=(JobStatus.RUNNING, JobStatus.FAILED), target=JobStatus.SCHEDULED
    )
    def reschedule(self, *, delay_seconds: float, next_attempt: bool) -> None:
        """Back to the queue: a retry (`next_attempt`) or a re-run of a lost attempt."""
        if next_attempt:
            self.attempt += 1
            self.lease_losses = 0
        self.due_at = timezone.now() + timedelta(seconds=delay_seconds)
        self.dispatched_at = None
        self.lease_token = None
        self.lease_expires_at = None

    @transition(
        field=status, source=(JobStatus.SCHEDULED, JobStatus.RUNNING), target=JobStatus.CANCELLED
    )
    def cancel(self) -> None:
        self.finished_at = timezone.now()
        self.lease_token = None


class Timer(FSMModelMixin, models.Model):
    """A wait with a due time: the sweeper fires it once it is due (`processes.services.timers`).

    A row, not a countdown in memory, so it survives every restart. It points at the token it
    holds by a plain foreign key: a step may later carry several (boundary timers).
    """

    # Indexed by timer_instance: db_index would add a second, LIKE-pattern index on the key.
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="timers", db_index=False
    )
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="timers")
    step_id = models.CharField(max_length=200)
    # Which of the step's `boundary` events this timer is (its index); None: a timer step.
    boundary = models.PositiveSmallIntegerField(null=True, blank=True)
    status = FSMField(
        max_length=16, default=TimerStatus.SCHEDULED, choices=TimerStatus.choices, protected=True
    )
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        # Partial, like job_due: a fired or cancelled timer leaves the sweeper's index.
        indexes = (
            models.Index(fields=("instance",), name="timer_instance"),
            models.Index(fields=("due_at",), condition=Q(status="scheduled"), name="timer_due"),
        )

    def __str__(self) -> str:
        return f"timer {self.pk} {self.step_id} ({self.status})"

    @transition(field=status, source=TimerStatus.SCHEDULED, target=TimerStatus.FIRED)
    def fire(self) -> None:
        self.fired_at = timezone.now()

    @transition(field=status, source=TimerStatus.SCHEDULED, target=TimerStatus.CANCELLED)
    def cancel(self) -> None:
        pass


class Subscription(FSMModelMixin, models.Model):
    """A message or signal a token waits for (`processes.services.subscriptions`): at a
    catch step, armed by an event gateway, or as a step's boundary event.

    A message subscription is matched by name and correlation key (evaluated when the step
    was entered); a signal's by name alone.
    """

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="subscriptions")
    step_id = models.CharField(max_length=200)
    # Which of the step's `boundary` events this is (its index); None: the step itself.
    boundary = models.PositiveSmallIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=8, choices=SubscriptionKind.choices)
    name = models.CharField(max_length=200)
    correlation_key = models.CharField(max_length=200, blank=True)
    status = FSMField(
        max_length=16,
        default=SubscriptionStatus.WAITING,
        choices=SubscriptionStatus.choices,
        protected=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(fields=("instance",), name="subscription_instance"),
            # What a message or signal looks for: only the waiting rows.
            models.Index(
                fields=("kind", "name", "correlation_key"),
                condition=Q(status="waiting"),
                name="subscription_waiting",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.name} at {self.step_id} ({self.status})"

    @transition(
        field=status, source=SubscriptionStatus.WAITING, target=SubscriptionStatus.DELIVERED
    )
    def deliver(self) -> None:
        self.delivered_at = timezone.now()

    @transition(
        field=status, source=SubscriptionStatus.WAITING, target=SubscriptionStatus.CANCELLED
    )
    def cancel(self) -> None:
        pass


class Message(FSMModelMixin, models.Model):
    """A message that came with `ttl_seconds` before anything waited for it: kept until a
    matching subscription opens (and takes it) or it expires."""

    name = models.CharField(max_length=200)
    # None matches any subscription's key (or instance's business key); "" only an empty one.
    correlation_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    business_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    variables = models.JSONField(default=dict, blank=True)
    status = FSMField(
        max_length=16, default=MessageStatus.BUFFERED, choices=MessageStatus.choices, protected=True
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    instance = models.ForeignKey(  # the instance it was delivered to
        ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(
                fields=("name", "created_at"),
                condition=Q(status="buffered"),
                name="message_buffered",
            ),
        )

    def __str__(self) -> str:
        return f"message {self.name} ({self.status})"

    @transition(field=status, source=MessageStatus.BUFFERED, target=MessageStatus.DELIVERED)
    def deliver(self, instance: ProcessInstance) -> None:
        self.delivered_at = timezone.now()
        self.instance = instance

    @transition(field=status, source=MessageStatus.BUFFERED, target=MessageStatus.EXPIRED)
    def expire(self) -> None:
        pass


class Trigger(models.Model):
    """A start trigger of a published version (its graph's `triggers`): the sweeper starts an
    instance when a scheduled one is due (`processes.services.triggers`), a message starts
    one through its message trigger.

    Publishing a version deactivates the previous version's triggers and creates its own, so
    only the latest version's are `active`. A message name starts one definition only: the
    partial unique constraint holds it even against two publishes at once.
    """

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.CASCADE, related_name="triggers"
    )
    version = models.ForeignKey(
        DefinitionVersion, on_delete=models.CASCADE, related_name="triggers"
    )
    position = models.PositiveSmallIntegerField()  # its index in the graph's `triggers`
    kind = models.CharField(max_length=16, choices=TriggerKind.choices)
    spec = models.CharField(max_length=200)  # the cron expression, the duration, the message
    variables = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    next_due_at = models.DateTimeField(null=True, blank=True)  # None: a message trigger
    last_fired_at = models.DateTimeField(null=True, blank=True)
    started = models.PositiveIntegerField(default=0)  # how many instances it started
    last_error = models.TextField(blank=True)  # why its last start failed; "" once one works
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("definition", "-version", "position")
        indexes = (
            models.Index(fields=("next_due_at",), condition=Q(active=True), name="trigger_due"),
        )
        constraints = (
            models.UniqueConstraint(
                fields=("spec",),
                condition=Q(active=True, kind=TriggerKind.MESSAGE),
                name="trigger_message_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.spec}"


class Event(models.Model):
    """The history: appended in the same transaction as the change it records."""

    # Indexed by event_instance_order, whose first column it is.
    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(max_length=32, choices=EventType.choices)
    step_id = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # most events have no actor: event_actor holds only those that do
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(fields=("instance", "id"), name="event_instance_order"),
            models.Index(fields=("actor",), condition=Q(actor__isnull=False), name="event_actor"),
        )

    def __str__(self) -> str:
        return f"{self.type} {self.step_id}"


class WorkerHeartbeat(models.Model):
    """A worker process that is alive says so here every few seconds (see processes.heartbeat)."""

    hostname = models.CharField(max_length=255, primary_key=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.hostname


class MigrationBatch(models.Model):
    """Instances of a definition moved from one version to another, a chunk at a time by a
    Celery job (`processes.services.migration_batches`): what was asked, how far it got.
    Its `lease_until` keeps two workers from running one batch at once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.CASCADE, related_name="migration_batches"
    )
    from_version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="+")
    to_version = models.ForeignKey(DefinitionVersion, on_delete=models.CASCADE, related_name="+")
    mapping = models.JSONField(default=dict, blank=True)
    instance_ids = models.JSONField(default=list)  # resolved when the batch is made
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    migrated = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "migration batches"

    def __str__(self) -> str:
        return f"batch {self.pk}: v{self.from_version_id} -> v{self.to_version_id} ({self.status})"

    @property
    def done(self) -> int:
        return self.migrated + self.refused


class MigrationOutcome(models.Model):
    """What became of one instance of a batch: its migration report."""

    batch = models.ForeignKey(MigrationBatch, on_delete=models.CASCADE, related_name="outcomes")
    instance_id = models.CharField(max_length=64)
    ok = models.BooleanField()
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(fields=("batch", "instance_id"), name="outcome_once"),
        )

    def __str__(self) -> str:
        return f"{self.instance_id}: {'moved' if self.ok else 'refused'}"


# The outbox and webhooks (issue 13): their own module, registered with the app from here.
from processes.outbox_models import (  # noqa: E402, F401
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
