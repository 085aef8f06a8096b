"""API pagination with bounds: a page number or size out of range is a 422, never a database error."""

from ninja import Schema
from ninja.pagination import PageNumberPagination

from .schemas import integer


class BoundedPageNumberPagination(PageNumberPagination):
    class Input(Schema):
        page: integer(ge=1, le=1_000_000) = 1
        page_size: integer(ge=1, le=200) | None = None
