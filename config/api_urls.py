"""The REST API under /api/: the v1 routes, the OpenAPI schema and its Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import LoginApi, RefreshApi
from processes.api.definitions import (
    DefinitionDetailApi,
    DefinitionListApi,
    DefinitionVersionBpmnApi,
    DefinitionVersionsApi,
)
from processes.api.instances import (
    InstanceActivateApi,
    InstanceDetailApi,
    InstanceHistoryApi,
    InstanceListApi,
    InstancePurgeApi,
    InstanceRetryApi,
    InstanceSuspendApi,
    InstanceTimerFireApi,
    InstanceVariablesApi,
)
from processes.api.messages import (
    InstanceEventApi,
    MessageApi,
    SignalApi,
    SubscriptionCancelApi,
)
from processes.api.migrations import DefinitionMigrationApi, DefinitionMigrationsApi
from processes.api.rollouts import DefinitionRollbackApi, DefinitionRolloutsApi
from processes.api.webhooks import WebhookDeliveriesApi, WebhookDetailApi, WebhookListApi
from restapi.errors import api_route_not_found
from tasks.api import (
    TaskAssignApi,
    TaskClaimApi,
    TaskCompleteApi,
    TaskDetailApi,
    TaskListApi,
    TaskUnclaimApi,
)

# Ids are taken as any text and checked by the selectors, so a malformed one answers the
# API's JSON 404 rather than Django's HTML one.
v1 = [
    path("auth/login", LoginApi.as_view(), name="login"),
    path("auth/refresh", RefreshApi.as_view(), name="refresh"),
    path("process-definitions", DefinitionListApi.as_view(), name="definitions"),
    path("process-definitions/<str:definition_id>", DefinitionDetailApi.as_view()),
    path("process-definitions/<str:definition_id>/versions", DefinitionVersionsApi.as_view()),
    path("process-definitions/<str:definition_id>/rollouts", DefinitionRolloutsApi.as_view()),
    path("process-definitions/<str:definition_id>/migrations", DefinitionMigrationsApi.as_view()),
    path(
        "process-definitions/<str:definition_id>/migrations/<str:batch_id>",
        DefinitionMigrationApi.as_view(),
    ),
    path("process-definitions/<str:definition_id>/rollback", DefinitionRollbackApi.as_view()),
    path(
        "process-definitions/<str:definition_id>/versions/<str:number>/bpmn",
        DefinitionVersionBpmnApi.as_view(),
        name="definition-version-bpmn",
    ),
    path("process-instances", InstanceListApi.as_view(), name="instances"),
    path("process-instances/<str:instance_id>", InstanceDetailApi.as_view()),
    path("process-instances/<str:instance_id>/suspend", InstanceSuspendApi.as_view()),
    path("process-instances/<str:instance_id>/activate", InstanceActivateApi.as_view()),
    path("process-instances/<str:instance_id>/retry", InstanceRetryApi.as_view()),
    path("process-instances/<str:instance_id>/purge", InstancePurgeApi.as_view()),
    path("process-instances/<str:instance_id>/history", InstanceHistoryApi.as_view()),
    path("process-instances/<str:instance_id>/variables", InstanceVariablesApi.as_view()),
    path("process-instances/<str:instance_id>/events/<str:name>", InstanceEventApi.as_view()),
    path(
        "process-instances/<str:instance_id>/subscriptions/<str:subscription_id>/cancel",
        SubscriptionCancelApi.as_view(),
    ),
    path("messages", MessageApi.as_view(), name="messages"),
    path("webhooks", WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<str:webhook_id>", WebhookDetailApi.as_view()),
    path("webhooks/<str:webhook_id>/deliveries", WebhookDeliveriesApi.as_view()),
    path("signals", SignalApi.as_view(), name="signals"),
    path(
        "process-instances/<str:instance_id>/timers/<str:timer_id>/fire",
        InstanceTimerFireApi.as_view(),
    ),
    path("tasks", TaskListApi.as_view(), name="tasks"),
    path("tasks/<str:task_id>", TaskDetailApi.as_view()),
    path("tasks/<str:task_id>/claim", TaskClaimApi.as_view()),
    path("tasks/<str:task_id>/unclaim", TaskUnclaimApi.as_view()),
    path("tasks/<str:task_id>/complete", TaskCompleteApi.as_view()),
    path("tasks/<str:task_id>/assign", TaskAssignApi.as_view()),
    re_path(r"", api_route_not_found),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api-v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
