"""API input schemas built from a model's own declaration, so the page (a ModelForm) and the API refuse the
same input the same way: a field's type, whether it may be empty, its choices, its length and value limits
(MinValueValidator, MaxValueValidator, MinLengthValidator, max_length, RegexValidator) and its label come from
the model field; the model's other validators and clean() run in the services' full_clean() for both.

Why not Ninja's ModelSchema: it maps types and max_length but not the validators' limits, so the OpenAPI schema
would not show them and a client would learn them only from a 422. Dates are ISO strings only and numbers are
no booleans (core.schemas: pydantic would otherwise read 0 as 1970-01-01 and true as 1)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from django.core import validators as django_validators
from django.db import models
from ninja import Schema
from pydantic import Field, create_model

from .schemas import IsoDate, IsoDatetime, integer, number

_TYPES: dict[type[models.Field], Any] = {
    models.BooleanField: bool,
    models.DateTimeField: IsoDatetime,  # before DateField: a DateTimeField is a DateField
    models.DateField: IsoDate,
    models.FloatField: number,  # a factory: the field's limits go into the type (core.schemas.number)
    models.DecimalField: number,
    models.IntegerField: integer,  # Positive*/Small*/Big* too
    models.JSONField: dict[str, Any],
    models.CharField: str,
    models.TextField: str,
}


def _python_type(field: models.Field) -> Any:
    if field.choices:
        return Literal[tuple(value for value, _ in field.flatchoices)]
    for django_type, python_type in _TYPES.items():
        if isinstance(field, django_type):
            return python_type
    raise TypeError(f"{field.model.__name__}.{field.name}: no API type for {type(field).__name__}")


def _limits(field: models.Field) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if getattr(field, "max_length", None) and not field.choices:
        limits["max_length"] = field.max_length
    if field.choices:
        return limits  # the choices say it all
    for validator in field.validators:  # an integer field's include the database's range
        if isinstance(validator, django_validators.MinLengthValidator):
            limits["min_length"] = validator.limit_value
        elif isinstance(validator, django_validators.MaxLengthValidator):
            limits["max_length"] = min(validator.limit_value, limits.get("max_length", validator.limit_value))
        elif isinstance(validator, django_validators.MinValueValidator):
            limits["ge"] = max(validator.limit_value, limits.get("ge", validator.limit_value))
        elif isinstance(validator, django_validators.MaxValueValidator):
            limits["le"] = min(validator.limit_value, limits.get("le", validator.limit_value))
        elif isinstance(validator, django_validators.RegexValidator) and not validator.inverse_match:
            limits["pattern"] = validator.regex.pattern
    return limits


def input_schema(
    model: type[models.Model],
    fields: tuple[str, ...] | list[str],
    *,
    name: str,
    partial: bool = False,
    extra: dict[str, tuple[Any, Any]] | None = None,
) -> type[Schema]:
    """A Ninja schema with one field per model field named in `fields` (relations must come through `extra`,
    e.g. a code instead of an id). `partial`: every field optional and absent by default (PATCH)."""
    definitions: dict[str, Any] = {}
    for field_name in fields:
        field = model._meta.get_field(field_name)
        python_type, limits = _python_type(field), _limits(field)
        if python_type in (integer, number):
            python_type, limits = python_type(**limits), {}
        optional = partial or field.null or field.blank or field.has_default()
        if partial or field.null:
            default: Any = None
        elif field.has_default():
            default = field.get_default()
        elif field.blank:
            default = "" if python_type is str else None
        else:
            default = ...
        annotation = python_type | None if (partial or field.null) else python_type
        if optional and default is None and not (partial or field.null):
            annotation = python_type | None
        definitions[field_name] = (annotation, Field(default, description=str(field.verbose_name), **limits))
    definitions.update(extra or {})
    return create_model(name, __base__=Schema, **definitions)


def as_plain(value: Any) -> Any:
    """An enum member from a schema as its value (what the model stores)."""
    return value.value if isinstance(value, Enum) else value
