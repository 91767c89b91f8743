"""The OpenAPI schemas are generated without warnings and describe every route; the docs pages load."""

from __future__ import annotations

import json
import warnings

import pytest
from django.test import Client
from django.urls import get_resolver

from emotune.api import api, openai_api

EXPECTED = {
    "/api/v1/me": {"get"}, "/api/v1/preferences": {"get", "patch"},
    "/api/v1/readings": {"get", "post"}, "/api/v1/readings/{pk}": {"get"}, "/api/v1/readings/{pk}/media": {"get"},
    "/api/v1/generations": {"get", "post"}, "/api/v1/generations/{pk}": {"get"},
    "/api/v1/generations/{pk}/cancel": {"post"}, "/api/v1/generations/{pk}/files/{kind}": {"get"},
    "/api/v1/generations/{pk}/feedback": {"get", "put"},
    "/api/v1/conversations": {"get", "post"}, "/api/v1/conversations/{pk}": {"get", "patch", "delete"},
    "/api/v1/conversations/{pk}/clear": {"post"}, "/api/v1/conversations/{pk}/messages": {"get", "post"},
    "/api/v1/speakers": {"get", "post"}, "/api/v1/speakers/{pk}/activate": {"post"},
    "/api/v1/speakers/{pk}": {"delete"},
}
OPENAI = {"/v1/audio/speech": {"post"}, "/v1/audio/transcriptions": {"post"}, "/v1/audio/voices": {"get"},
          "/v1/models": {"get"}, "/v1/models/{model}": {"get"}}


def _schema(which):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning while generating fails the test
        return json.loads(json.dumps(which.get_openapi_schema()))  # as served


def test_schemas_are_generated_without_warnings_and_cover_every_route():
    site, audio = _schema(api), _schema(openai_api)
    assert {path: set(ops) for path, ops in site["paths"].items()} == EXPECTED
    assert {path: set(ops) for path, ops in audio["paths"].items()} == OPENAI
    for schema in (site, audio):
        schemes = schema["components"]["securitySchemes"]
        assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}  # bearer token, session cookie
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                assert operation.get("security"), f"{method} {path} is not authenticated"
                assert operation.get("summary"), f"{method} {path} has no summary"
    body = site["paths"]["/api/v1/generations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("GenerationIn")
    speech = audio["paths"]["/v1/audio/speech"]["post"]
    assert set(speech["responses"]["200"]["content"]) == {"audio/mpeg", "audio/wav", "audio/pcm"}
    # Every API URL Django serves is in a schema.
    served = set()
    for entry in get_resolver().url_patterns:
        if str(entry.pattern) in ("api/v1/", "v1/"):
            served |= {"/" + str(entry.pattern) + str(p.pattern) for p in entry.url_patterns}
    assert len(served) >= len(EXPECTED) + len(OPENAI)


@pytest.mark.django_db
def test_docs_pages_and_schemas_are_served_without_a_cdn():
    client = Client()
    for base in ("/api/v1", "/v1"):
        schema = client.get(f"{base}/openapi.json")
        assert schema.status_code == 200 and schema.json()["info"]["version"] == "1"
        docs = client.get(f"{base}/docs")
        assert docs.status_code == 200
        page = docs.content.decode()
        assert "swagger-ui-bundle.js" in page and "cdn." not in page  # the docs page works offline
