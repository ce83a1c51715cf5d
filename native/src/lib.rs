//! Sluicegate's compiled core, for Python: Rego evaluated on Microsoft's regorus, and RFC 8785
//! canonical JSON (`canonical.rs`).
//!
//! A pack is compiled once into a [`CompiledRule`] (parsed, analysed, its rules gathered).
//! An evaluation takes an engine from the rule's pool (a clone of the compiled one when the pool
//! is empty), sets the input, evaluates and puts the engine back: no two calls share an engine,
//! and a reused engine is ~20% faster than a fresh clone (its caches are warm; measured in
//! docs/performance.md). The GIL is released while the input is parsed and the rule
//! evaluated. Documents cross the boundary as JSON text: Python's JSON codecs are fast and
//! exact, and no Python object is touched without the GIL.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use regorus::{Engine, Value};
use std::sync::Mutex;

mod canonical;

create_exception!(
    _native,
    RegoError,
    PyException,
    "Rego that does not compile, an input that is not JSON, or an evaluation that failed."
);

/// The modules and data compiled for one rule; evaluated on many threads at once.
#[pyclass(frozen, module = "sluicegate_native._native")]
struct CompiledRule {
    pool: EnginePool,
    rule: String,
}

/// Prepared engines for one rule, at most one per thread evaluating at the same time.
pub struct EnginePool {
    compiled: Engine,
    idle: Mutex<Vec<Engine>>,
}

impl EnginePool {
    pub fn new(compiled: Engine) -> Self {
        Self {
            compiled,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Run `f` with an engine no other call is using.
    pub fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let taken = self.idle.lock().map(|mut idle| idle.pop()).ok().flatten();
        let mut engine = taken.unwrap_or_else(|| self.compiled.clone());
        let result = f(&mut engine);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(engine);
        }
        result
    }
}

/// Compile `modules` (name, source) and `data` (a JSON object) for evaluating `rule`.
///
/// Builtin errors are strict: a builtin that fails is an error, never a silent "undefined".
pub fn compile_rule(
    modules: &[(String, String)],
    data_json: &str,
    rule: &str,
) -> anyhow::Result<Engine> {
    let mut engine = Engine::new();
    engine.set_strict_builtin_errors(true);
    for (name, source) in modules {
        engine.add_policy(name.clone(), source.clone())?;
    }
    engine.add_data_json(data_json)?;
    // Compiling prepares the engine (analysis, rule gathering, the data document that `with`
    // modifies) and checks that the rule exists; clones made afterwards start prepared.
    // regorus's CompiledPolicy itself is not evaluated: the engines it starts skip that data
    // document, so reads of `data` under `with` come back empty (regorus 0.14.1).
    engine.compile_with_entrypoint(&rule.into())?;
    Ok(engine)
}

/// The rule's value for this input as JSON text; `None` when it is undefined.
pub fn evaluate_rule(
    engine: &mut Engine,
    rule: &str,
    input_json: &str,
) -> anyhow::Result<Option<String>> {
    engine.set_input(Value::from_json_str(input_json)?);
    let value = engine.eval_rule(rule.to_string())?;
    if value == Value::Undefined {
        return Ok(None);
    }
    // Compact: regorus's own `to_json_str` pretty-prints.
    Ok(Some(serde_json::to_string(&value)?))
}

fn rego_error(error: anyhow::Error) -> PyErr {
    RegoError::new_err(format!("{error:#}"))
}

#[pymethods]
impl CompiledRule {
    /// The rule this was compiled for, e.g. `data.sluicegate.verdicts`.
    #[getter]
    fn rule(&self) -> &str {
        &self.rule
    }

    /// The rule's value for `input_json` as JSON text, or `None` when undefined.
    fn evaluate(&self, py: Python<'_>, input_json: &str) -> PyResult<Option<String>> {
        py.detach(|| {
            self.pool
                .with_engine(|engine| evaluate_rule(engine, &self.rule, input_json))
        })
        .map_err(rego_error)
    }
}

/// Compile `modules` (name → source) with `data_json` for evaluating `rule`.
#[pyfunction]
fn compile(
    py: Python<'_>,
    modules: Vec<(String, String)>,
    data_json: &str,
    rule: String,
) -> PyResult<CompiledRule> {
    let engine = py
        .detach(|| compile_rule(&modules, data_json, &rule))
        .map_err(rego_error)?;
    Ok(CompiledRule {
        pool: EnginePool::new(engine),
        rule,
    })
}

/// The RFC 8785 canonical JSON of `value` (see `canonical.rs`).
#[pyfunction]
fn canonical_json<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = canonical::canonical_bytes(value)?;
    Ok(PyBytes::new(value.py(), &bytes))
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(compile, module)?)?;
    module.add_class::<CompiledRule>()?;
    module.add_function(wrap_pyfunction!(canonical_json, module)?)?;
    module.add(
        "CanonicalizationError",
        module.py().get_type::<canonical::CanonicalizationError>(),
    )?;
    module.add("RegoError", module.py().get_type::<RegoError>())?;
    module.add("REGORUS_VERSION", "0.14.1")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "data.example.verdicts";
    const PACK: &str = r#"package example
import rego.v1

verdicts contains {"rule": "limit", "message": sprintf("over %v", [data.limit])} if {
    input.amount > data.limit
}
"#;

    fn pack() -> Engine {
        let modules = vec![("example.rego".to_string(), PACK.to_string())];
        compile_rule(&modules, r#"{"limit": 100}"#, RULE).unwrap()
    }

    #[test]
    fn evaluates_a_set_as_an_array() {
        let found = evaluate_rule(&mut pack(), RULE, r#"{"amount": 150}"#).unwrap();
        assert_eq!(
            found.as_deref(),
            Some(r#"[{"message":"over 100","rule":"limit"}]"#)
        );
        let none = evaluate_rule(&mut pack(), RULE, r#"{"amount": 50}"#).unwrap();
        assert_eq!(none.as_deref(), Some("[]"));
    }

    #[test]
    fn a_pooled_engine_forgets_the_last_input_and_the_last_error() {
        let pool = EnginePool::new(pack());
        let run = |input: &str| pool.with_engine(|engine| evaluate_rule(engine, RULE, input));
        assert_eq!(
            run(r#"{"amount": 150}"#).unwrap().as_deref(),
            Some(r#"[{"message":"over 100","rule":"limit"}]"#)
        );
        assert!(run("{not json").is_err());
        assert_eq!(run(r#"{"amount": 1}"#).unwrap().as_deref(), Some("[]"));
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
    }

    #[test]
    fn an_undefined_rule_is_none() {
        let modules = vec![(
            "u.rego".to_string(),
            "package u\nimport rego.v1\nx := 1 if input.go\n".to_string(),
        )];
        let mut policy = compile_rule(&modules, "{}", "data.u.x").unwrap();
        assert_eq!(evaluate_rule(&mut policy, "data.u.x", "{}").unwrap(), None);
        assert_eq!(
            evaluate_rule(&mut policy, "data.u.x", r#"{"go": true}"#)
                .unwrap()
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn data_is_read_under_with() {
        let modules = vec![(
            "w.rego".to_string(),
            r#"package w
import rego.v1
env := input.e
v contains x if { x := data.t[env] }
t := x if { x := v with input as {"e": "sandbox"} }
"#
            .to_string(),
        )];
        let mut policy = compile_rule(&modules, r#"{"t": {"sandbox": 1}}"#, "data.w.t").unwrap();
        assert_eq!(
            evaluate_rule(&mut policy, "data.w.t", "{}")
                .unwrap()
                .as_deref(),
            Some("[1]")
        );
    }

    #[test]
    fn builtin_errors_are_strict() {
        let modules = vec![(
            "s.rego".to_string(),
            "package s\nimport rego.v1\nx := to_number(input.n)\n".to_string(),
        )];
        let mut policy = compile_rule(&modules, "{}", "data.s.x").unwrap();
        assert!(evaluate_rule(&mut policy, "data.s.x", r#"{"n": "not a number"}"#).is_err());
    }

    #[test]
    fn bad_rego_and_bad_input_are_errors() {
        let modules = vec![("b.rego".to_string(), "package b\nx := \n".to_string())];
        assert!(compile_rule(&modules, "{}", "data.b.x").is_err());
        assert!(evaluate_rule(&mut pack(), RULE, "{not json").is_err());
    }
}
