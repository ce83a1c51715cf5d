"""`/v1/reviews`: queues, tasks and the reviewer's steps; auditors may read, not act."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.dependencies import BoardDep, DeskDep, ReviewerDep, ReviewReaderDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.reviews.board import QueueSummary
from service.reviews.models import (
    BatchResult,
    IncidentCause,
    PostHocVerdict,
    Review,
    ReviewKind,
    ReviewPacket,
    ReviewState,
)

router = APIRouter(prefix="/v1/reviews", tags=["reviews"], route_class=StrictJsonRoute)
_STEP_ERRORS = error_responses(
    401, 403, 404, 409, 422, forbidden="not a reviewer of this queue, or four eyes"
)
Note = Annotated[str, Field(max_length=4000)]


class ApproveBody(BaseModel):
    """An approval, optionally with a note."""

    note: Note | None = None


class ApproveManyBody(BaseModel):
    """Reviews of one action type in one queue to approve together, with one note."""

    review_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=100),
    ]
    note: Note | None = None


class BatchResults(BaseModel):
    """Per review, in the order given: approved, or refused with the error a single step
    would have answered."""

    results: list[BatchResult]


class RejectBody(BaseModel):
    """A rejection; the note saying why is required, the cause is `other` unless given."""

    note: Note
    cause: IncidentCause = IncidentCause.OTHER


class VerdictBody(BaseModel):
    """A post-hoc finding; `should_not_have_happened` needs a note."""

    verdict: PostHocVerdict
    note: Note | None = None
    # For `should_not_have_happened`: why (`other` unless given).
    cause: IncidentCause | None = None


@router.post(
    ":approve",
    response_model=BatchResults,
    responses=error_responses(
        401, 403, 422, forbidden="not a reviewer's key", unprocessable="not one type and queue"
    ),
    summary="Approve alike reviews together",
)
def approve_many(body: ApproveManyBody, desk: DeskDep, reviewer: ReviewerDep) -> BatchResults:
    """Approve several pending reviews of one action type in one queue with one note. Each
    is checked and recorded as its own approval (four eyes, two approvers, claims); the
    answer says, per review, whether it was approved and why not. `422 reviews_not_alike`,
    before anything changes, when they are not of one action type in one queue."""
    return BatchResults(results=desk.approve_alike(body.review_ids, reviewer, body.note))


@router.get("/queues", response_model=list[QueueSummary], summary="My queues with their counts")
def list_queues(board: BoardDep, reader: ReviewReaderDep) -> list[QueueSummary]:
    """The queues this key may read, with pending, claimed and overdue counts."""
    return board.queues(reader)


@router.get("", response_model=list[Review], summary="Reviews in my queues")
def list_reviews(
    *,
    board: BoardDep,
    reader: ReviewReaderDep,
    queue: str | None = None,
    state: ReviewState | None = None,
    kind: ReviewKind | None = None,
    decision: Annotated[str | None, Query(description="the reviews of this decision")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Review]:
    """Reviews soonest due first, by queue, state, kind and decision."""
    return board.reviews(
        reader, queue=queue, state=state, kind=kind, decision=decision, limit=limit
    )


@router.get("/{review_id}", response_model=ReviewPacket, summary="One review with its packet")
def read_review(review_id: str, board: BoardDep, reader: ReviewReaderDep) -> ReviewPacket:
    """The review, the proposal with its changes, and the reasons the rules gave."""
    return board.packet(review_id, reader)


@router.post("/{review_id}/claim", response_model=Review, responses=_STEP_ERRORS)
def claim(review_id: str, desk: DeskDep, reviewer: ReviewerDep) -> Review:
    """Take the review for the lease (others cannot act on it meanwhile)."""
    return desk.claim(review_id, reviewer)


@router.post("/{review_id}/release", response_model=Review, responses=_STEP_ERRORS)
def release(review_id: str, desk: DeskDep, reviewer: ReviewerDep) -> Review:
    """Give the claim back."""
    return desk.release(review_id, reviewer)


@router.post("/{review_id}/approve", response_model=Review, responses=_STEP_ERRORS)
def approve(review_id: str, body: ApproveBody, desk: DeskDep, reviewer: ReviewerDep) -> Review:
    """Approve a blocking review (the second distinct approval resolves a two-approver one)."""
    return desk.approve(review_id, reviewer, body.note)


@router.post("/{review_id}/reject", response_model=Review, responses=_STEP_ERRORS)
def reject(review_id: str, body: RejectBody, desk: DeskDep, reviewer: ReviewerDep) -> Review:
    """Reject a blocking review, saying why and naming the cause."""
    return desk.reject(review_id, reviewer, body.note, body.cause)


@router.post("/{review_id}/verdict", response_model=Review, responses=_STEP_ERRORS)
def verdict(review_id: str, body: VerdictBody, desk: DeskDep, reviewer: ReviewerDep) -> Review:
    """Close a post-hoc review with a finding."""
    return desk.give_verdict(review_id, reviewer, body.verdict, body.note, body.cause)
