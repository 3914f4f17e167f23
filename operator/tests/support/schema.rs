//! A small validator for the OpenAPI v3 subset a CRD schema uses, so example manifests can be
//! checked against the generated CRD without an API server.
//!
//! CEL rules are evaluated for the one form the CRD uses (`self.a <= self.b`); any other rule
//! fails validation loudly, so a new rule cannot be skipped silently.

use serde_json::Value;

pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "", &mut errors);
    errors
}

/// Validates a whole custom object: the API server handles apiVersion, kind and metadata.
pub fn validate_object(schema: &Value, object: &Value) -> Vec<String> {
    let mut body = object.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
        map.remove("metadata");
    }
    validate(schema, &body)
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            errors.push(format!("{path}: null is not allowed"));
        }
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!("{path}: expected an integer or a string"));
        }
        return;
    }
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(other) => {
            errors.push(format!("{path}: unsupported schema type {other}"));
            return;
        }
        None => true,
    };
    if !type_ok {
        errors.push(format!("{path}: expected {}, got {value}", schema["type"]));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            errors.push(format!("{path}: {n} is below the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            errors.push(format!("{path}: {n} is above the maximum {max}"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            errors.push(format!("{path}: {s:?} is too short"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            errors.push(format!("{path}: {s:?} is too long"));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            match regex::Regex::new(pattern) {
                Ok(re) if re.is_match(s) => {}
                Ok(_) => errors.push(format!("{path}: {s:?} does not match {pattern}")),
                Err(e) => errors.push(format!("{path}: bad pattern {pattern}: {e}")),
            }
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), errors);
        }
    }
    if let Some(map) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let preserve =
            schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap_or_default();
            if !map.contains_key(key) {
                errors.push(format!("{path}: missing required field {key}"));
            }
        }
        for (key, child) in map {
            let child_path = format!("{path}.{key}");
            match (properties.and_then(|p| p.get(key)), additional) {
                (Some(child_schema), _) => check(child_schema, child, &child_path, errors),
                (None, Some(extra)) if extra.is_object() => {
                    check(extra, child, &child_path, errors)
                }
                _ if preserve => {}
                // The API server would prune it; in an example that is a typo.
                _ => errors.push(format!("{child_path}: unknown field")),
            }
        }
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = rule.get("rule").and_then(Value::as_str).unwrap_or_default();
        match eval_rule(text, value) {
            Some(true) => {}
            Some(false) => errors.push(format!("{path}: rule `{text}` does not hold")),
            None => errors.push(format!("{path}: cannot evaluate rule `{text}`")),
        }
    }
}

/// Evaluates `self.a <= self.b` (and `<`, `>=`, `>`, `==`) on integers.
pub fn eval_rule(rule: &str, value: &Value) -> Option<bool> {
    let ops = ["<=", ">=", "==", "<", ">"];
    let op = ops.into_iter().find(|op| rule.contains(op))?;
    let (left, right) = rule.split_once(op)?;
    let field = |side: &str| {
        let name = side.trim().strip_prefix("self.")?;
        value.get(name)?.as_i64()
    };
    let (a, b) = (field(left)?, field(right)?);
    Some(match op {
        "<=" => a <= b,
        ">=" => a >= b,
        "==" => a == b,
        "<" => a < b,
        _ => a > b,
    })
}
