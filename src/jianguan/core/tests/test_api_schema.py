"""The OpenAPI schema documents the errors each route can answer: by the rule in jianguan.api (from the route's
shape) plus what the route declares itself, always with the one error body (ApiError)."""

import pytest
from ninja import Form, Router, Schema
from ninja.files import UploadedFile
from ninja.params import File

from jianguan.accounts.auth import OPTIONAL, REQUIRED
from jianguan.api import JianGuanAPI, api
from jianguan.core.schemas import Id

ERROR = {"$ref": "#/components/schemas/ApiError"}


class ThingIn(Schema):
    name: str


@pytest.fixture(scope="module")
def openapi():
    return api.get_openapi_schema(path_prefix="")


def responses(openapi, method: str, path: str) -> dict:
    return openapi["paths"][path][method]["responses"]


def test_every_error_response_has_the_api_error_body(openapi):
    errors = [
        (path, method, status, response)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert len(errors) > 200
    for path, method, status, response in errors:
        if path == "/ledger/checkpoint.txt":
            assert response["content"] == {"text/plain": {"schema": {"type": "string"}}}
            continue
        assert response["content"]["application/json"]["schema"] == ERROR, (path, method, status)
        assert response["description"], (path, method, status)
    assert [name for name in openapi["components"]["schemas"] if "Error" in name] == ["ApiError"]


def test_a_signed_in_read_of_an_object_documents_401_404_and_422(openapi):
    assert set(responses(openapi, "get", "/enterprises/{enterprise_id}")) == {200, 401, 404, 422}


def test_a_write_documents_the_permission_layer_and_the_body_errors(openapi):
    assert set(responses(openapi, "post", "/projects/{project_id}/key-people")) == {
        201, 400, 401, 403, 404, 413, 422
    }  # fmt: skip
    assert set(responses(openapi, "post", "/projects/{project_id}/documents")) >= {400, 413, 422}


def test_a_route_without_parameters_documents_no_422_and_a_public_one_no_401(openapi):
    assert set(responses(openapi, "post", "/ledger/checkpoints")) == {201, 401, 403}
    assert set(responses(openapi, "get", "/jurisdictions")) == {200}
    assert 401 not in responses(openapi, "get", "/ledger/entries/{index}")  # signed in or not: more or less data


def test_a_route_keeps_what_it_declares_itself(openapi):
    assert 409 in responses(openapi, "post", "/projects/{project_id}/transitions")
    assert 429 in responses(openapi, "post", "/auth/token")
    assert 204 in responses(openapi, "delete", "/projects/{project_id}/participants/{participant_id}")
    assert 202 in responses(openapi, "post", "/ingest/telemetry")


def test_a_new_route_is_documented_without_declaring_its_errors():
    other = JianGuanAPI(auth=REQUIRED, urls_namespace="schema-test")
    router = Router()

    @router.post("/things/{thing_id}", response={201: None})
    def change(request, thing_id: Id, payload: ThingIn):
        return 201, None

    @router.post("/things/{thing_id}/files", response={201: None})
    def upload(request, thing_id: Id, note: Form[str], file: File[UploadedFile]):
        return 201, None

    @router.get("/things", auth=OPTIONAL)
    def search(request, q: str = ""):
        return []

    @router.get("/health", auth=None)
    def health(request):
        return {}

    other.add_router("/", router)
    paths = other.get_openapi_schema(path_prefix="")["paths"]
    assert set(paths["/things/{thing_id}"]["post"]["responses"]) == {201, 400, 401, 403, 404, 413, 422}
    assert set(paths["/things/{thing_id}/files"]["post"]["responses"]) == {201, 400, 401, 403, 404, 413, 422}
    assert set(paths["/things"]["get"]["responses"]) == {200, 422}
    assert set(paths["/health"]["get"]["responses"]) == {200}
