"""Candidate rule packs: folders the operators put in `SLUICEGATE_CANDIDATES_DIR`, named by
the API and the pages; nothing uploaded ever runs."""

from __future__ import annotations

import re

from policy.rule_pack import RulePack, load_rule_pack
from service.settings import Settings

# A candidate pack's folder name under SLUICEGATE_CANDIDATES_DIR.
CANDIDATE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def candidate_pack(settings: Settings, name: str) -> RulePack:
    """A candidate pack by name, from the operators' candidates folder; LookupError when
    there is none of that name (or no folder), RulePackError when it does not load."""
    if settings.candidates_dir is None or not CANDIDATE_NAME.fullmatch(name):
        raise LookupError(f"no candidate pack {name!r}")
    folder = settings.candidates_dir / name
    if not folder.is_dir():
        raise LookupError(f"no candidate pack {name!r}")
    return load_rule_pack(folder)
