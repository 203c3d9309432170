"""The built-in step types: `http` (`processes.builtin_steps.http_step`) and `publish`
(`processes.builtin_steps.publish_step`), registered with `processes.registry.step_type`
like user code's. `processes.registry.load_service_modules` imports this package in every
process, before SERVICE_MODULES."""

from processes.builtin_steps import http_step, publish_step

__all__ = ["http_step", "publish_step"]
