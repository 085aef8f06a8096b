"""Every operation's input refuses what pydantic would otherwise read as something else: `true` for a number
(it would be 1) and a number, or a string of digits, for a date or time (0 would be 1970-01-01). The input types
of core.schemas do; this test holds every route, new ones included, to them."""

import datetime as dt
import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from jianguan.api import api
from jianguan.core.modelschema import input_schema
from jianguan.core.schemas import DbDatetime, Id, IsoDate, integer, number
from jianguan.projects.models import Project


def _leaves(annotation: Any, metadata: list, path: str):
    """(path, type, metadata) of each scalar inside a field's annotation, into nested models."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *more = get_args(annotation)
        yield from _leaves(base, [*more, *metadata], path)
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                yield from _leaves(arg, metadata, path)
    elif origin in (list, tuple, set, dict):
        for arg in get_args(annotation)[-1:]:
            yield from _leaves(arg, [], f"{path}[]")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _leaves(field.annotation, list(field.metadata), f"{path}.{name}")
    else:
        yield path, annotation, metadata


def input_scalars():
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                where = f"{','.join(operation.methods)} {bound.prefix.rstrip('/')}{path}"
                for model in operation.models:
                    yield from _leaves(model, [], f"{where} {model.__ninja_param_source__}")


def _refuses(annotation: Any, value: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return True
    return False


def test_the_walk_finds_the_api_s_numbers_and_dates():
    kinds = {tp for _, tp, _ in input_scalars()}
    assert {int, float, dt.date, dt.datetime} <= kinds


def test_no_number_in_any_operation_s_input_takes_a_boolean():
    taken = [
        path
        for path, tp, metadata in input_scalars()
        if tp in (int, float) and not _refuses(Annotated[tp, *metadata] if metadata else tp, True)
    ]
    assert taken == []


@pytest.mark.parametrize("value", [0, 1700000000, 0.5, "0", "1700000000", True])
def test_no_date_or_time_in_any_operation_s_input_takes_a_number(value):
    taken = [
        path
        for path, tp, metadata in input_scalars()
        if tp in (dt.date, dt.datetime) and not _refuses(Annotated[tp, *metadata] if metadata else tp, value)
    ]
    assert taken == []


def test_the_types_still_take_what_they_are_for():
    assert TypeAdapter(Id).validate_python("12") == 12
    assert TypeAdapter(integer(ge=0)).validate_python(3) == 3
    assert TypeAdapter(number(ge=-90, le=90)).validate_python("35.06") == 35.06
    assert TypeAdapter(IsoDate).validate_python("2026-11-20") == dt.date(2026, 11, 20)
    assert TypeAdapter(DbDatetime).validate_python("2026-11-20T10:00:00+08:00").hour == 10
    assert _refuses(number(), float("nan"))
    assert _refuses(number(), float("inf"))


def test_the_schemas_built_from_a_model_refuse_them_too():
    schema = input_schema(Project, ("lat", "floors_above", "planned_start"), name="T", partial=True)
    for field, value in (("lat", False), ("floors_above", True), ("planned_start", 0), ("planned_start", "0")):
        with pytest.raises(ValidationError):
            schema.model_validate({field: value})
    assert schema.model_validate({"lat": 35.06, "floors_above": 3}).floors_above == 3
