"""Operations endpoints: /health and /metrics."""

urlpatterns: list = []
