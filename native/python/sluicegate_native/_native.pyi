"""Types of the Rust extension module (native/src/lib.rs)."""

REGORUS_VERSION: str

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
