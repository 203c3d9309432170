"""Operations endpoints: /health and /metrics (no login: for load balancers and Prometheus)."""

from django.urls import path

from processes.health import health
from processes.metrics import metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
]
