"""Loading a pack: revision, validation of data, the import rule for Python rules, Rego tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.errors import RulePackError
from policy.rego_testing import run_rego_tests
from policy.rule_pack import load_rule_pack, pack_revision
from tests.fixtures import RULES


def test_revision_is_a_content_hash(pack_copy: Path) -> None:
    before = pack_revision(pack_copy)
    assert before == pack_revision(RULES)
    limits = pack_copy / "data" / "limits.yaml"
    limits.write_text(limits.read_text().replace("USD: 1000", "USD: 2000"))
    assert pack_revision(pack_copy) != before


def test_python_rules_may_import_only_the_rule_api(pack_copy: Path) -> None:
    (pack_copy / "python" / "sneaky.py").write_text("from service.settings import Settings\n")
    with pytest.raises(RulePackError, match=r"rules may import only policy\.rule_api"):
        load_rule_pack(pack_copy)


def test_fail_closed_data_can_never_allow(pack_copy: Path) -> None:
    data = pack_copy / "data" / "fail_closed.yaml"
    data.write_text(data.read_text() + "  low_confidence: allow\n")
    with pytest.raises(RulePackError, match="may only route or deny"):
        load_rule_pack(pack_copy)


def test_every_catalog_queue_must_exist(pack_copy: Path) -> None:
    catalog = pack_copy / "data" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("owner_queue: sales-ops", "owner_queue: nobody"))
    with pytest.raises(RulePackError, match="nobody"):
        load_rule_pack(pack_copy)


def test_rego_that_does_not_compile_is_refused(pack_copy: Path) -> None:
    from policy.backends.rego_embedded import EmbeddedRegoBackend

    (pack_copy / "rego" / "bad.rego").write_text(
        "package sluicegate.rules.bad\n\nverdicts contains {\n"
    )
    pack = load_rule_pack(pack_copy)
    with pytest.raises(RulePackError, match="does not compile"):
        EmbeddedRegoBackend(pack.rego_modules, pack.raw_data)


def test_the_pack_rego_tests_pass() -> None:
    results = run_rego_tests(load_rule_pack(RULES))
    assert len(results) >= 9
    assert [r.name for r in results if not r.passed] == []


def test_a_failing_rego_test_is_reported(pack_copy: Path) -> None:
    (pack_copy / "rego" / "extra_test.rego").write_text(
        "package sluicegate.extra_test\n\nimport rego.v1\n\ntest_wrong if {\n\t1 == 2\n}\n"
    )
    results = run_rego_tests(load_rule_pack(pack_copy))
    failed = [r.name for r in results if not r.passed]
    assert failed == ["data.sluicegate.extra_test.test_wrong"]
