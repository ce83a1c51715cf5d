//! RFC 8785 (JSON Canonicalization Scheme) of Python values, written straight from the objects.
//!
//! The same bytes as the `rfc8785` package (which stays the oracle: a property test compares
//! the two on generated documents), in one pass without intermediate Python objects: `None`,
//! `bool`, `int` within ±(2^53 − 1), `float` (finite; ECMAScript's shortest form, by
//! `ryu-js`), `str` (UTF-8; only `"`, `\` and control characters escaped), `list` and `tuple`,
//! and `dict` with `str` keys sorted by their UTF-16 code units. Subclasses (a `str` enum)
//! count as their base type, as in `rfc8785`; anything else is refused.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

create_exception!(
    _native,
    CanonicalizationError,
    PyValueError,
    "A value RFC 8785 cannot represent: a non-finite float, an integer beyond ±(2^53 − 1), a \
     string that is not UTF-8, a key that is not a string, or a type JSON does not have."
);

const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The canonical bytes of `value`.
pub fn canonical_bytes(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

fn refuse(message: String) -> PyErr {
    CanonicalizationError::new_err(message)
}

fn write_value(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(flag) = value.cast::<PyBool>() {
        out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
    } else if let Ok(number) = value.cast::<PyInt>() {
        let safe = number
            .extract::<i64>()
            .ok()
            .filter(|n| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(n));
        let Some(n) = safe else {
            return Err(refuse(format!(
                "{number} exceeds safe integer domain for JSON floats"
            )));
        };
        out.extend_from_slice(n.to_string().as_bytes());
    } else if let Ok(text) = value.cast::<PyString>() {
        write_string(text.to_str().map_err(|_| not_utf8())?, out);
    } else if let Ok(number) = value.cast::<PyFloat>() {
        write_float(number.value(), out)?;
    } else if let Ok(items) = value.cast::<PyList>() {
        write_sequence(items.iter(), out)?;
    } else if let Ok(items) = value.cast::<PyTuple>() {
        write_sequence(items.iter(), out)?;
    } else if let Ok(object) = value.cast::<PyDict>() {
        write_object(object, out)?;
    } else {
        let kind = value.get_type().name()?;
        return Err(refuse(format!("{kind} is not a JSON type")));
    }
    Ok(())
}

fn not_utf8() -> PyErr {
    refuse("input contains non-UTF-8 codepoints".to_string())
}

fn write_sequence<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    out.push(b'[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_value(&item, out)?;
    }
    out.push(b']');
    Ok(())
}

fn write_object(object: &Bound<'_, PyDict>, out: &mut Vec<u8>) -> PyResult<()> {
    let mut members = Vec::with_capacity(object.len());
    for (key, value) in object.iter() {
        let Ok(key) = key.cast::<PyString>() else {
            return Err(refuse("object keys must be strings".to_string()));
        };
        let key = key.to_str().map_err(|_| not_utf8())?.to_owned();
        members.push((key, value));
    }
    // RFC 8785 3.2.3: members sorted by their keys' UTF-16 code units.
    members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (index, (key, value)) in members.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_value(value, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// RFC 8785 3.2.2.2: `"` and `\` escaped, control characters as `\b \f \n \r \t` or `\u00xx`,
/// everything else as its UTF-8.
pub fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\x08' => b"\\b",
            b'\x0c' => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..index]);
                out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
                start = index + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        out.extend_from_slice(escaped);
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// RFC 8785 3.2.2.3: ECMAScript's Number-to-String (shortest round trip); zero of either sign
/// is `0`; NaN and infinities are refused.
pub fn write_float(number: f64, out: &mut Vec<u8>) -> PyResult<()> {
    if !number.is_finite() {
        return Err(refuse(format!("{number} is not representable in JCS")));
    }
    if number == 0.0 {
        out.push(b'0');
        return Ok(());
    }
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(number).as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> String {
        let mut out = Vec::new();
        write_string(text, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn float(number: f64) -> String {
        let mut out = Vec::new();
        write_float(number, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters_only() {
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(string("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(string("€ \u{e000} 😀 /"), "\"€ \u{e000} 😀 /\"");
    }

    #[test]
    fn floats_take_ecmascripts_shortest_form() {
        // RFC 8785 appendix B.
        assert_eq!(float(1e21), "1e+21");
        assert_eq!(float(1e20), "100000000000000000000");
        assert_eq!(float(0.000001), "0.000001");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(-0.0), "0");
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(float(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(float(333333333.3333333), "333333333.3333333");
        assert_eq!(float(-1.5), "-1.5");
        assert_eq!(float(2.0), "2");
        assert!(write_float(f64::NAN, &mut Vec::new()).is_err());
    }
}
