"""The compiled core's Rego binding, from Python: what it answers, how it fails, and that one
compiled pack serves many threads at once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import sluicegate_native

from policy.backends.rego_embedded import compile_rego
from policy.errors import RulePackError

MODULE = """package example
import rego.v1

limit_of(currency) := data.limits[currency]

verdicts contains {"rule": "limit", "message": sprintf("%v over %v", [input.amount, limit])} if {
\tlimit := limit_of(input.currency)
\tinput.amount > limit
}

maybe := "yes" if input.flag
"""
DATA = {"limits": {"USD": 1000, "EUR": 900}}


def _compiled(rule: str = "data.example.verdicts") -> sluicegate_native.CompiledRule:
    return sluicegate_native.compile([("example.rego", MODULE)], json.dumps(DATA), rule)


def test_a_set_comes_back_as_a_json_array_and_undefined_as_none() -> None:
    verdicts = _compiled()
    assert verdicts.rule == "data.example.verdicts"
    over = verdicts.evaluate(json.dumps({"amount": 1500, "currency": "USD"}))
    assert over is not None
    assert json.loads(over) == [{"rule": "limit", "message": "1500 over 1000"}]
    assert verdicts.evaluate(json.dumps({"amount": 5, "currency": "EUR"})) == "[]"
    maybe = _compiled("data.example.maybe")
    assert maybe.evaluate("{}") is None
    assert maybe.evaluate('{"flag": true}') == '"yes"'


def test_rego_that_does_not_compile_is_the_packs_error() -> None:
    with pytest.raises(RulePackError, match="Rego does not compile"):
        compile_rego({"bad.rego": "package bad\nx := \n"}, {}, "data.bad.x")


def test_a_rule_that_does_not_exist_is_refused_when_compiling() -> None:
    with pytest.raises(sluicegate_native.RegoError):
        _compiled("data.example.nothing")


def test_input_that_is_not_json_is_an_error() -> None:
    with pytest.raises(sluicegate_native.RegoError):
        _compiled().evaluate("{not json")


def test_a_failing_builtin_is_an_error() -> None:
    strict = sluicegate_native.compile(
        [("s.rego", "package s\nimport rego.v1\nx := to_number(input.n)\n")], "{}", "data.s.x"
    )
    assert strict.evaluate('{"n": "12"}') == "12"
    with pytest.raises(sluicegate_native.RegoError, match="to_number"):
        strict.evaluate('{"n": "twelve"}')


def test_one_compiled_pack_answers_many_threads_at_once_each_its_own_input() -> None:
    verdicts = _compiled()
    inputs = [{"amount": 900 + i, "currency": ("USD", "EUR")[i % 2]} for i in range(400)]
    expected = [verdicts.evaluate(json.dumps(given)) for given in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda given: verdicts.evaluate(json.dumps(given)), inputs))
    assert answers == expected
    assert sum(answer != "[]" for answer in answers) > 100
