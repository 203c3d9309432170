"""The OpenAPI schema describes every route; the Swagger UI is served without a CDN."""

import re

import pytest
import yaml
from rest_framework.test import APIClient

from config.api_urls import v1

pytestmark = pytest.mark.django_db


def openapi_path(route: str) -> str:
    return "/api/v1/" + re.sub(r"<\w+:(\w+)>", r"{\1}", route)


def test_schema__every_v1_route_is_documented_with_bodies_and_errors():
    answer = APIClient().get("/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    assert schema["openapi"].startswith("3.")
    routes = {openapi_path(str(p.pattern)) for p in v1 if str(p.pattern)}
    assert routes == set(schema["paths"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            success = [code for code in responses if code.startswith("2")]
            assert success, (method, path)
            assert all("content" in responses[code] for code in success), (method, path)
            assert "401" in responses, (method, path)
            if method in ("post", "put") and path.endswith(("complete", "assign", "instances")):
                assert operation["requestBody"]["content"]["application/json"], (method, path)


def test_docs__swagger_ui_loads_only_local_assets():
    answer = APIClient().get("/api/docs/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("drf_spectacular_sidecar" in asset for asset in assets)
    assert not [asset for asset in assets if asset.startswith(("http:", "https:", "//"))]
