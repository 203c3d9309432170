from django.contrib import admin
from django.urls import include, path

from processes.api.dapr import (
    DaprGetApi,
    DaprPauseApi,
    DaprPurgeApi,
    DaprRaiseEventApi,
    DaprResumeApi,
    DaprStartApi,
    DaprTerminateApi,
)

admin.site.site_header = "Flowdesk"
admin.site.site_title = "Flowdesk"

# Dapr's workflow HTTP API, for the component FLOWDESK_DAPR_COMPONENT (processes/api/dapr.py).
dapr_workflows = [
    path("<str:component>/<str:workflow_name>/start", DaprStartApi.as_view()),
    path("<str:component>/<str:instance_id>", DaprGetApi.as_view()),
    path("<str:component>/<str:instance_id>/terminate", DaprTerminateApi.as_view()),
    path("<str:component>/<str:instance_id>/pause", DaprPauseApi.as_view()),
    path("<str:component>/<str:instance_id>/resume", DaprResumeApi.as_view()),
    path("<str:component>/<str:instance_id>/purge", DaprPurgeApi.as_view()),
    path(
        "<str:component>/<str:instance_id>/raiseEvent/<str:event_name>",
        DaprRaiseEventApi.as_view(),
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("v1.0/workflows/", include(dapr_workflows)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("config.ops_urls")),
    path("", include("config.page_urls")),
]
