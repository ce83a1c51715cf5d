"""Mask paths: JSON pointers with `*`, applied to a copy, reporting what they erased."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policy.masking import mask, pointer_tokens

PROPOSAL: dict[str, Any] = {
    "action": {"type": "crm.contact.update"},
    "changes": [
        {"record": "contact/1", "field": "email", "from": "a@x.io", "to": "b@x.io"},
        {"record": "contact/2", "field": "title", "to": "CEO"},
    ],
    "labels": {"customer_email": "c@x.io", "a/b": "slash", "tenant": "acme"},
}


def test_a_field_is_removed_and_named() -> None:
    masked, erased = mask(PROPOSAL, ["/labels/customer_email"])
    assert masked["labels"] == {"a/b": "slash", "tenant": "acme"}
    assert erased == ["/labels/customer_email"]
    assert PROPOSAL["labels"]["customer_email"] == "c@x.io"  # the original is untouched


def test_a_wildcard_reaches_every_item_and_names_each() -> None:
    masked, erased = mask(PROPOSAL, ["/changes/*/from", "/changes/*/to"])
    assert masked["changes"] == [
        {"record": "contact/1", "field": "email"},
        {"record": "contact/2", "field": "title"},
    ]
    assert erased == ["/changes/0/from", "/changes/0/to", "/changes/1/to"]


def test_escapes_an_opa_style_prefix_and_array_items() -> None:
    masked, erased = mask(PROPOSAL, ["/input/labels/a~1b", "/changes/1"])
    assert "a/b" not in masked["labels"]
    assert masked["changes"][1] is None
    assert erased == ["/changes/1", "/labels/a~1b"]


def test_the_original_is_never_changed_whatever_is_erased() -> None:
    before = copy.deepcopy(PROPOSAL)
    paths = ["/changes/*/from", "/changes/1", "/labels/*", "/action/type"]
    masked, erased = mask(PROPOSAL, paths)
    assert before == PROPOSAL
    assert masked == {
        "action": {},
        "changes": [{"record": "contact/1", "field": "email", "to": "b@x.io"}, None],
        "labels": {},
    }
    assert len(erased) == 6


def test_paths_that_match_nothing_erase_nothing() -> None:
    assert mask(PROPOSAL, ["/labels/nope", "/changes/7/to", "/action/type/deeper"]) == (
        PROPOSAL,
        [],
    )


@pytest.mark.parametrize("bad", ["labels/email", "/", ""])
def test_malformed_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="JSON pointer"):
        pointer_tokens(bad)
