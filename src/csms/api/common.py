"""Shared API models: camelCase JSON, UTC ISO 8601 times, pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

T = TypeVar("T")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: A timestamp as the API writes it: ISO 8601 in UTC with a Z.
UtcDatetime = Annotated[datetime, PlainSerializer(_utc, return_type=str, when_used="json")]


class ApiModel(BaseModel):
    """Base of every request and response body: camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        from_attributes=True,
    )


class Page(ApiModel, Generic[T]):
    """One page of a list, with the total number of matching items."""

    items: list[T]
    total: int
    limit: int
    offset: int


Limit = Annotated[int, Query(ge=1, le=500, description="page size (1-500)")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]
From = Annotated[
    AwareDatetime | None, Query(alias="from", description="inclusive lower bound, ISO 8601 with zone")
]
To = Annotated[AwareDatetime | None, Query(description="exclusive upper bound, ISO 8601 with zone")]
