"""The browser pages: inbox, task, start, definition, cases, instance."""

from django.urls import path

from processes import definition_views, instance_list_views, repair_views, start_rights_views
from processes import views as process_views
from tasks import views as task_views

urlpatterns = [
    path("", task_views.inbox, name="inbox"),
    path("tasks/<int:task_id>/", task_views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/claim/", task_views.task_claim_view, name="task-claim"),
    path("tasks/<int:task_id>/unclaim/", task_views.task_unclaim_view, name="task-unclaim"),
    path("tasks/<int:task_id>/complete/", task_views.task_complete_view, name="task-complete"),
    path("start/", process_views.start_list, name="start-list"),
    path(
        "definitions/<str:key>/starters/",
        start_rights_views.definition_starters_page,
        name="definition-starters",
    ),
    path("start/<str:key>/", process_views.start_form, name="start-form"),
    path("definitions/<str:key>/", definition_views.definition_detail, name="definition-detail"),
    path("instances/", instance_list_views.instance_list, name="instance-list"),
    path("instances/<str:instance_id>/", process_views.instance_detail, name="instance-detail"),
    path(
        "instances/<str:instance_id>/variables/",
        repair_views.instance_variables_edit,
        name="instance-variables",
    ),
    path(
        "instances/<str:instance_id>/timers/<int:timer_id>/fire/",
        process_views.instance_timer_fire,
        name="instance-timer-fire",
    ),
    path(
        "instances/<str:instance_id>/subscriptions/<int:subscription_id>/cancel/",
        process_views.instance_subscription_cancel,
        name="instance-subscription-cancel",
    ),
    path(
        "instances/<str:instance_id>/<str:action>/",
        process_views.instance_control,
        name="instance-control",
    ),
]
