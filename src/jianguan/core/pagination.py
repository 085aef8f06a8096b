"""API pagination with bounds: a page number or size out of range is a 422, never a database error."""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


class BoundedPageNumberPagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int | None = Field(None, ge=1, le=200)
