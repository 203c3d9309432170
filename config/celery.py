"""The Celery app shared by the web process (which sends job ids) and the workers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("flowdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["processes"], related_name="jobs")


@app.on_after_configure.connect
def schedule_sweeper(sender: Celery, **_kwargs) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.FLOWDESK_ENGINE["SWEEP_INTERVAL"],
        sender.signature("flowdesk.sweep_jobs"),
        name="sweep jobs",
    )
