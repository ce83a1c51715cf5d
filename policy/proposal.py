"""The action proposal an agent sends before it acts (wire contract v1)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=128)]
Scalar = str | int | float | bool | None
ActionType = Annotated[
    str, Field(min_length=3, max_length=128, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
]
DataClass = Annotated[str, Field(max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")]

# Lists and maps are bounded so a proposal stays a small, reviewable packet.
MAX_CHANGES = 200
MAX_DATA_CLASSES = 16
MAX_LABELS = 32


class _Closed(BaseModel):
    """A wire object that refuses unknown fields, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(StrEnum):
    """Where the action would take effect."""

    SANDBOX = "sandbox"
    STAGING = "staging"
    PRODUCTION = "production"


class Money(_Closed):
    """An amount of money the action moves or commits."""

    value: Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Action(_Closed):
    """What the agent wants to do; `type` is looked up in the action catalog."""

    type: ActionType
    target: Name | None = None
    environment: Environment
    amount: Money | None = None
    data_classes: Annotated[list[DataClass], Field(max_length=MAX_DATA_CLASSES)] = []
    customer_facing: bool | None = None
    reversible: bool | None = None


class Change(_Closed):
    """One field of one record changing from a value to another, with its evidence."""

    model_config = ConfigDict(populate_by_name=True)

    record: Name
    field: Name
    from_: Annotated[Scalar, Field(alias="from")] = None
    to: Scalar = None
    source: Annotated[str, Field(max_length=512)] | None = None


class WorkItem(_Closed):
    """The unit of work this action belongs to, for tracing it end to end."""

    id: Name
    type: Name | None = None


class Proposal(_Closed):
    """An action proposal: the request body of `POST /v1/decisions`."""

    idempotency_key: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    action: Action
    changes: Annotated[list[Change], Field(max_length=MAX_CHANGES)] = []
    justification: Annotated[str, Field(max_length=4000)] | None = None
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    work_item: WorkItem | None = None
    # The decision this proposal revises (after a rejection): same agent, same work item.
    revises: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    labels: Annotated[
        dict[Name, Annotated[str, Field(max_length=256)]], Field(max_length=MAX_LABELS)
    ] = {}

    def document(self) -> dict[str, Any]:
        """The proposal as the JSON document rules see (wire field names, no idempotency key)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"idempotency_key"})
