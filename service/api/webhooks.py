"""`/v1/webhooks`: an agent registers where it is told that a review resolved."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.dependencies import AgentDep, DatabaseDep, DestinationsDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.webhooks.registry import (
    Delivery,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    deliveries_of,
    register,
    revoke,
    webhooks_of,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=StrictJsonRoute)


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses=error_responses(401, 403, 404, 422),
    summary="Register a webhook (for every decision, or one)",
)
def create_webhook(
    body: WebhookCreate, database: DatabaseDep, destinations: DestinationsDep, agent: AgentDep
) -> WebhookCreated:
    """Messages are signed per Standard Webhooks with the secret returned here, once. The URL
    must resolve to public addresses (or a network the operator allows)."""
    return register(database, destinations, agent, body)


@router.get("", response_model=list[Webhook], summary="My webhooks")
def list_webhooks(database: DatabaseDep, agent: AgentDep) -> list[Webhook]:
    """The agent's live webhooks."""
    return webhooks_of(database, agent)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=error_responses(401, 403, 404),
    response_class=Response,
)
def delete_webhook(webhook_id: str, database: DatabaseDep, agent: AgentDep) -> None:
    """Stop sending to this webhook."""
    revoke(database, agent, webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[Delivery],
    responses=error_responses(401, 403, 404),
    summary="Every delivery to a webhook and its attempts",
)
def list_deliveries(webhook_id: str, database: DatabaseDep, agent: AgentDep) -> list[Delivery]:
    """What was sent, how often it was tried and how it went."""
    return deliveries_of(database, agent, webhook_id)
