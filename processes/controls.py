"""The operator's controls of an instance, in one registry the pages, the API and the admin share.

Each control names its service (which checks the caller's rights and the instance's state
under the instance lock), who may use it, and what to say once done. Views ask
`instance_controls_available` what to show; they never re-derive it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django_fsm import can_proceed

from accounts.permissions import can_control_instances
from processes.models import ProcessInstance
from processes.services import (
    instance_resume,
    instance_retry,
    instance_suspend,
    instance_terminate,
    instance_variables_update,
)
from processes.services.repair import REPAIRABLE


@dataclass(frozen=True)
class InstanceControl:
    name: str  # also the instance's transition method
    label: str
    past: str  # "suspended": what the admin says of the instances it acted on
    service: Callable[..., ProcessInstance]
    may: Callable[[Any], bool]
    done: str
    confirm: str = ""  # asked before a control that cannot be undone
    # A control with a form of its own: the page links to it. Available in `statuses`
    # (the others: when the instance's transition of the same name may proceed).
    page: str = ""
    statuses: tuple[str, ...] = ()

    def available_for(self, instance: ProcessInstance) -> bool:
        if self.statuses:
            return instance.status in self.statuses
        return can_proceed(getattr(instance, self.name))


INSTANCE_CONTROLS: dict[str, InstanceControl] = {
    control.name: control
    for control in (
        InstanceControl(
            "suspend",
            "Suspend",
            "suspended",
            instance_suspend,
            can_control_instances,
            "Suspended: no step runs until it is resumed.",
        ),
        InstanceControl(
            "resume", "Resume", "resumed", instance_resume, can_control_instances, "Resumed."
        ),
        InstanceControl(
            "retry",
            "Retry",
            "retried",
            instance_retry,
            can_control_instances,
            "Retrying the failed steps.",
        ),
        InstanceControl(
            "terminate",
            "Terminate",
            "terminated",
            instance_terminate,
            can_control_instances,
            "Terminated: its open tasks and jobs are cancelled.",
            confirm="Terminate this process? Its open tasks and jobs are cancelled.",
        ),
        InstanceControl(
            "variables",
            "Edit variables",
            "edited",
            instance_variables_update,
            can_control_instances,
            "Variables saved. Retry or resume the process to go on.",
            page="instance-variables",
            statuses=REPAIRABLE,
        ),
    )
}


def instance_controls_available(*, instance: ProcessInstance, user: Any) -> list[InstanceControl]:
    """The controls `user` may use that the instance's status allows now."""
    return [
        control
        for control in INSTANCE_CONTROLS.values()
        if control.may(user) and control.available_for(instance)
    ]
