//! `pg_dump --schema-only` text as objects: each `-- Name: ...; Type: ...;
//! Schema: ...` header and the statements under it, so that two dumps can be
//! compared object by object and each differing object checked against what
//! a migration reported (skipped, rewritten) instead of line by line.

use super::compare::normalize_dump;
use std::collections::{BTreeMap, BTreeSet};

/// (type, schema, name) as pg_dump's header gives them.
pub type Key = (String, String, String);

/// The dump's objects, bodies normalised as `compare::normalize_dump` does;
/// objects with nothing left (pg_dump's note that it does not create
/// `public` for servers before 15) are left out.
pub fn blocks(dump: &str) -> BTreeMap<Key, String> {
    let mut out: BTreeMap<Key, String> = BTreeMap::new();
    let mut key: Option<Key> = None;
    let mut body = String::new();
    let flush = |key: &Option<Key>, body: &mut String, out: &mut BTreeMap<Key, String>| {
        if let Some(k) = key.as_ref().filter(|_| !normalize_dump(body).is_empty()) {
            let mut k = k.clone();
            while out.contains_key(&k) {
                k.2.push('\'');
            }
            out.insert(k, normalize_dump(body));
        }
        body.clear();
    };
    for line in dump.lines() {
        if let Some(rest) = line.strip_prefix("-- Name: ") {
            flush(&key, &mut body, &mut out);
            let mut parts = rest.split("; ");
            let name = parts.next().unwrap_or("").to_string();
            let mut ty = String::new();
            let mut schema = String::new();
            for p in parts {
                if let Some(t) = p.strip_prefix("Type: ") {
                    ty = t.to_string();
                } else if let Some(s) = p.strip_prefix("Schema: ") {
                    schema = s.to_string();
                }
            }
            key = Some((ty, schema, name));
            continue;
        }
        // Session settings pg_dump writes between objects belong to none.
        if key.is_some()
            && !line.starts_with("SET ")
            && !line.starts_with("SELECT pg_catalog.set_config")
        {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&key, &mut body, &mut out);
    out
}

/// The plain names an object string mentions: `app.f(anyarray)` gives `app`
/// and `f`; `spans_pkey on app.spans` gives `spans_pkey`, `app`, `spans`.
pub fn names(object: &str) -> BTreeSet<String> {
    let mut s = String::new();
    let mut depth = 0;
    for ch in object.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if depth == 0 => s.push(c),
            _ => {}
        }
    }
    s.split(|c: char| c.is_whitespace() || c == '.' || c == ',')
        .map(|t| t.trim_matches('"').to_string())
        .filter(|t| !t.is_empty() && t != "on")
        .collect()
}

/// Objects of `target` that differ from `expected` (missing, extra or
/// changed), as `type schema name`, leaving out those whose name is in
/// `explained`.
pub fn unexplained(
    expected: &BTreeMap<Key, String>,
    target: &BTreeMap<Key, String>,
    explained: &BTreeSet<String>,
) -> Vec<String> {
    let keys: BTreeSet<&Key> = expected.keys().chain(target.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        if expected.get(k) == target.get(k) {
            continue;
        }
        let (ty, schema, name) = k;
        let mine = names(&name.replace('\'', ""));
        if mine.iter().any(|n| n != schema && explained.contains(n)) {
            continue;
        }
        let what = match (expected.get(k), target.get(k)) {
            (Some(_), None) => "missing",
            (None, Some(_)) => "extra",
            _ => "different",
        };
        out.push(format!(
            "{what}: {ty} {schema} {name}\n  expected: {}\n  got: {}",
            expected.get(k).map_or("-", |s| s.as_str()),
            target.get(k).map_or("-", |s| s.as_str())
        ));
    }
    out
}

/// View text as PostgreSQL 16 and later print it: column references without
/// their table's name (`people.tags` becomes `tags`), for views that neither
/// end's pg_restore reference could create. Names in `schemas` are kept.
pub fn unqualify_columns(body: &str, schemas: &[&str]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut word = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        let next_is_ident = chars
            .peek()
            .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_' || *n == '"');
        if c == '.' && !word.is_empty() && next_is_ident && !schemas.contains(&word.as_str()) {
            word.clear();
            continue;
        }
        out.push_str(&word);
        word.clear();
        out.push(c);
    }
    out.push_str(&word);
    out
}
