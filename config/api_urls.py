"""The REST API under /api/ (v1 routes, schema, docs)."""

urlpatterns: list = []
