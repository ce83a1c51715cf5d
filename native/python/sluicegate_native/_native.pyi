"""Types of the Rust extension module (native/src/lib.rs)."""

from typing import Any

REGORUS_VERSION: str

class CanonicalizationError(ValueError):
    """A value RFC 8785 cannot represent (a non-finite float, an integer beyond 2^53 - 1, a
    string that is not UTF-8, a key that is not a string, a type JSON does not have)."""

def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a value made of None, bool, int, float, str, list, tuple
    and dict with str keys: the same bytes as the `rfc8785` package."""

class RegoError(Exception):
    """Rego that does not compile, an input that is not JSON, or an evaluation that failed."""

class CompiledRule:
    """The modules and data compiled for one rule; evaluated on many threads at once."""

    @property
    def rule(self) -> str: ...
    def evaluate(self, input_json: str) -> str | None:
        """The rule's value for this input as JSON text, or None when undefined.

        The GIL is released while the input is parsed and the rule evaluated.
        """

def compile(modules: list[tuple[str, str]], data_json: str, rule: str) -> CompiledRule:
    """Compile the modules (name, source) and data (a JSON object) for evaluating `rule`.

    Builtin errors are strict: a builtin that fails raises RegoError, never gives undefined.
    """
