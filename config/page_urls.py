"""The browser pages: inbox, task, start, instance."""

from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    # Until the task inbox exists, operators start in the admin.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
