"""The API's documentation as a browser gets it: Swagger UI and ReDoc load every asset from the
service itself, and the OpenAPI document describes authentication, the event stream and the
shapes of results, usage, errors and the catalogue."""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from suite_ai.jobs.models import JobEvent

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
}


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assets_of(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def external_urls(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>)]+", text)


def fetch_assets(client: Client, page_url: str, page: str) -> dict[str, str]:
    """Every asset the page references, and the ones its stylesheets reference, fetched as a
    browser would: each must answer 200 with the content type its extension calls for."""
    fetched: dict[str, str] = {}
    pending = [urljoin(page_url, asset) for asset in assets_of(page)]
    while pending:
        url = pending.pop()
        if url in fetched:
            continue
        parts = urlsplit(url)
        assert not parts.netloc, f"{url} is not served by this service"
        response = client.get(parts.path)
        assert response.status_code == 200, url
        content_type = response["Content-Type"]
        extension = re.search(r"\.[a-z0-9]+$", parts.path)
        assert extension is not None and content_type.startswith(CONTENT_TYPES[extension.group()]), (url, content_type)
        fetched[url] = content_type
        if extension.group() == ".css":
            css = body_of(response).decode()
            for reference in re.findall(r"url\(['\"]?([^'\")]+)['\"]?\)", css):
                if not reference.startswith("data:"):
                    pending.append(urljoin(url, reference))
    return fetched


def test_swagger_ui_loads_every_asset_from_the_service(client):
    response = client.get("/api/v1.0/swagger/")
    assert response.status_code == 200
    page = response.content.decode()
    fetched = fetch_assets(client, "/api/v1.0/swagger/", page)
    assert {urlsplit(url).path.rsplit("/", 1)[-1] for url in fetched} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    }
    # The inline start-up script: the schema it loads is ours, and nothing is sent elsewhere
    # (Swagger UI's default validator badge would call validator.swagger.io).
    assert external_urls(page) == []
    assert '"validatorUrl": null' in page
    assert '"persistAuthorization": true' in page
    schema_url = re.search(r'url: "([^"]+)"', page)
    assert schema_url is not None
    schema = client.get(schema_url.group(1), HTTP_ACCEPT="application/json, */*")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")


def test_redoc_loads_every_asset_from_the_service_and_no_google_fonts(client):
    response = client.get("/api/v1.0/redoc/")
    assert response.status_code == 200
    page = response.content.decode()
    assert external_urls(page) == []  # drf-spectacular's own template loads fonts.googleapis.com
    fetched = fetch_assets(client, "/api/v1.0/redoc/", page)
    assert any(url.endswith("redoc.standalone.js") for url in fetched)


def test_static_files_answer_with_whitenoise_headers(client):
    page = client.get("/api/v1.0/swagger/").content.decode()
    bundle = next(asset for asset in assets_of(page) if asset.endswith("swagger-ui-bundle.js"))
    response = client.get(bundle, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    assert len(body_of(response)) > 100_000


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1.0/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def resolve(schema: dict, node: dict) -> dict:
    """Follow ``$ref`` and single-item ``allOf`` to the component they name."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def test_schema_has_a_bearer_security_scheme_used_by_every_operation(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"bearerAuth": []} in operation["security"], (method, path)


def test_schema_describes_the_event_stream(schema):
    operation = schema["paths"]["/api/v1.0/jobs/{id}/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"id", "Last-Event-ID"}
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    event = resolve(schema, content["text/event-stream"]["schema"])
    assert event["discriminator"]["propertyName"] == "event"
    mapping = event["discriminator"]["mapping"]
    # Every kind of event a job's stream can carry, and nothing else.
    assert set(mapping) == set(JobEvent.Kind.values) >= {"status", "progress", "delta", "discard", "done", "failed"}
    discard_data = resolve(schema, resolve(schema, {"$ref": mapping["discard"]})["properties"]["data"])
    assert set(discard_data["properties"]) == {"reason", "attempt"}
    done = resolve(schema, {"$ref": mapping["done"]})
    done_data = resolve(schema, done["properties"]["data"])
    assert resolve(schema, done_data["properties"]["result"])["properties"]["markdown"]["type"] == "string"
    delta_data = resolve(schema, resolve(schema, {"$ref": mapping["delta"]})["properties"]["data"])
    assert delta_data["properties"]["text"]["type"] == "string"
    failed_data = resolve(schema, resolve(schema, {"$ref": mapping["failed"]})["properties"]["data"])
    assert set(resolve(schema, failed_data["properties"]["error"])["properties"]) == {"code", "message", "detail"}
    for name in mapping:
        assert f"`{name}`" in operation["description"]
    assert {"401", "404"} <= set(operation["responses"])


def test_schema_types_result_usage_error_and_the_catalogue(schema):
    job = schema["components"]["schemas"]["Job"]["properties"]
    result = resolve(schema, job["result"])
    assert {"markdown", "blocks", "note", "engine"} <= set(result["properties"])
    assert set(resolve(schema, result["properties"]["note"])["properties"]) == {"document_id", "url", "title"}
    usage = resolve(schema, job["usage"])
    assert {"model", "prompt_tokens", "completion_tokens", "total_tokens", "by_stage"} <= set(usage["properties"])
    assert usage["properties"]["prompt_tokens"]["type"] == "integer"
    error = resolve(schema, job["error"])
    assert set(error["properties"]) == {"code", "message", "detail"}

    catalogue = schema["paths"]["/api/v1.0/actions/"]["get"]["responses"]["200"]["content"]["application/json"]
    action = resolve(schema, catalogue["schema"]["items"])
    assert {"name", "label", "options", "needs_model", "offline_engine", "result", "scope"} <= set(action["properties"])
    option = resolve(schema, action["properties"]["options"]["items"])
    assert {"name", "type", "required", "choices"} <= set(option["properties"])


def test_the_typed_catalogue_matches_what_the_api_answers(schema, alice):
    """The schema is written by hand next to the code: every key the API sends is in it."""
    action_schema = schema["components"]["schemas"]["Action"]
    option_schema = schema["components"]["schemas"]["ActionOption"]
    for action in alice.client.get("/api/v1.0/actions/").json():
        assert set(action) <= set(action_schema["properties"]), set(action) - set(action_schema["properties"])
        assert set(action_schema["required"]) <= set(action)
        for option in action["options"]:
            assert set(option) <= set(option_schema["properties"])


def test_schema_generates_without_warnings_and_validates():
    """drf-spectacular validates the document against the OpenAPI 3 specification."""
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert '"/api/v1.0/jobs/{id}/events/"' in out.getvalue()
