//! Connection strings as libpq reads them: `postgres://` URIs and
//! `key=value` strings, turned into an ordered list of keyword/value pairs.
//!
//! This layer only splits and decodes; meaning (defaults, environment,
//! `.pgpass`, validation of values) is applied in `spec.rs`. Keeping the pairs
//! as the user wrote them lets us print the string back with the password
//! masked, which is the only form of a connection string pgferry ever shows.

use super::ConnError;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Keywords pgferry understands. Anything else is rejected by name, because a
/// silently ignored keyword (a typo in `sslmode`) is a security problem.
pub(crate) const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "passfile",
    "dbname",
    "sslmode",
    "sslrootcert",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
];

/// Which syntax the user wrote, so the redacted form looks like the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `postgres://` or `postgresql://` (the scheme is kept as written).
    Uri(String),
    KeyValue,
}

/// A connection string split into keyword/value pairs, in input order
/// (later pairs win, as in libpq).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawConnInfo {
    pub style: Style,
    pub params: Vec<(String, String)>,
}

impl RawConnInfo {
    /// The last value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Replaces every value of `key` with one `value`.
    pub fn set(&mut self, key: &str, value: &str) {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.to_string(), value.to_string()));
    }

    /// Renders the pairs back in the input style with the password masked.
    pub fn redacted(&self) -> String {
        match &self.style {
            Style::KeyValue => render_kv(self),
            Style::Uri(scheme) => render_uri(scheme, self),
        }
    }
}

/// Splits a libpq connection string into pairs. Never puts the input (which
/// may hold a password) into an error message; only keyword names.
pub(crate) fn parse_raw(s: &str) -> Result<RawConnInfo, ConnError> {
    let trimmed = s.trim();
    for scheme in ["postgresql://", "postgres://"] {
        if let Some(rest) = trimmed.strip_prefix(scheme) {
            let params = parse_uri(rest)?;
            let raw = RawConnInfo {
                style: Style::Uri(scheme.to_string()),
                params,
            };
            check_keywords(&raw)?;
            return Ok(raw);
        }
    }
    if trimmed.contains("://") {
        return Err(malformed(
            "unsupported URI scheme (expected postgres:// or postgresql://)",
        ));
    }
    let raw = RawConnInfo {
        style: Style::KeyValue,
        params: parse_kv(trimmed)?,
    };
    check_keywords(&raw)?;
    Ok(raw)
}

fn malformed(detail: impl Into<String>) -> ConnError {
    ConnError::malformed(detail.into())
}

fn check_keywords(raw: &RawConnInfo) -> Result<(), ConnError> {
    for (k, _) in &raw.params {
        if !KEYWORDS.contains(&k.as_str()) {
            return Err(malformed(format!(
                "unknown or unsupported connection keyword \"{k}\""
            )));
        }
    }
    Ok(())
}

/// `key=value key2='quoted \' value'`.
fn parse_kv(s: &str) -> Result<Vec<(String, String)>, ConnError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(malformed(format!("missing \"=\" after \"{key}\"")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(malformed(format!(
                            "unterminated quoted value for \"{key}\""
                        )))
                    }
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => {
                            return Err(malformed(format!(
                                "unterminated quoted value for \"{key}\""
                            )))
                        }
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

/// Everything after `postgres://`: `[user[:pw]@][hosts][/db][?k=v&...]`.
fn parse_uri(rest: &str) -> Result<Vec<(String, String)>, ConnError> {
    let mut out = Vec::new();
    let mut rest = rest;
    // Credentials end at the first '@' seen before the path or the query.
    if let Some(i) = rest.find(['@', '/', '?']) {
        if rest.as_bytes()[i] == b'@' {
            let userinfo = &rest[..i];
            rest = &rest[i + 1..];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.push(("user".into(), decode(user, "user name")?));
            }
            if let Some(p) = password {
                out.push(("password".into(), decode(p, "password")?));
            }
        }
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    parse_hosts(authority, &mut out)?;
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let db = path.strip_prefix('/').unwrap_or(path);
    if !db.is_empty() {
        out.push(("dbname".into(), decode(db, "database name")?));
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(malformed(format!(
                    "missing \"=\" in URI query parameter \"{}\"",
                    decode(pair, "query parameter").unwrap_or_default()
                )));
            };
            let key = decode(k, "query parameter")?;
            let value = decode(v, &format!("value of \"{key}\""))?;
            out.push((key, value));
        }
    }
    Ok(out)
}

/// `host1:5432,[::1]:5433,%2Ftmp` into `host` and `port` lists.
fn parse_hosts(authority: &str, out: &mut Vec<(String, String)>) -> Result<(), ConnError> {
    if authority.is_empty() {
        return Ok(());
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for entry in authority.split(',') {
        let (host, port) = if let Some(inner) = entry.strip_prefix('[') {
            let Some((h, after)) = inner.split_once(']') else {
                return Err(malformed("unterminated \"[\" in IPv6 host address"));
            };
            match after {
                "" => (h, None),
                p => match p.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None => return Err(malformed("unexpected text after \"]\" in the host")),
                },
            }
        } else {
            match entry.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (entry, None),
            }
        };
        hosts.push(decode(host, "host")?);
        ports.push(
            port.map(|p| decode(p, "port"))
                .transpose()?
                .unwrap_or_default(),
        );
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        out.push(("host".into(), hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        out.push(("port".into(), ports.join(",")));
    }
    Ok(())
}

/// Strict percent-decoding (libpq rejects `%zz` and `%00`); `what` names the
/// field in the error, never its value.
fn decode(s: &str, what: &str) -> Result<String, ConnError> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() >= i + 3
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit()
                && &bytes[i + 1..i + 3] != b"00";
            if !ok {
                return Err(malformed(format!("invalid percent-encoding in the {what}")));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| malformed(format!("the {what} is not valid UTF-8")))
}

/// Characters that must be escaped inside a URI component we render.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'#')
    .add(b'@')
    .add(b':')
    .add(b',')
    .add(b'&')
    .add(b'=')
    .add(b'[')
    .add(b']');

/// Query values may keep `/`, `:` and `@` (file paths read better), but not
/// the characters that end or split a parameter.
const QUERY_VALUE: &AsciiSet = &CONTROLS.add(b' ').add(b'%').add(b'&').add(b'#').add(b'+');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

fn render_uri(scheme: &str, raw: &RawConnInfo) -> String {
    let mut s = scheme.to_string();
    let user = raw.get("user");
    let has_password = raw.get("password").is_some();
    if user.is_some() || has_password {
        s.push_str(&enc(user.unwrap_or("")));
        if has_password {
            s.push_str(":****");
        }
        s.push('@');
    }
    let hosts: Vec<&str> = raw
        .get("host")
        .map(|h| h.split(',').collect())
        .unwrap_or_default();
    let ports: Vec<&str> = raw
        .get("port")
        .map(|p| p.split(',').collect())
        .unwrap_or_default();
    let inline_ports = ports.len() == hosts.len() || (hosts.is_empty() && ports.len() == 1);
    if hosts.is_empty() && inline_ports {
        if let Some(p) = ports.first() {
            s.push(':');
            s.push_str(&enc(p));
        }
    }
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        if h.contains(':') && !h.starts_with('/') {
            s.push_str(&format!("[{h}]"));
        } else {
            s.push_str(&enc(h));
        }
        if inline_ports && !ports[i].is_empty() {
            s.push(':');
            s.push_str(&enc(ports[i]));
        }
    }
    if let Some(db) = raw.get("dbname") {
        s.push('/');
        s.push_str(&enc(db));
    }
    let mut sep = '?';
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in raw.params.iter().rev() {
        let skip = matches!(k.as_str(), "user" | "password" | "host" | "dbname")
            || (k == "port" && inline_ports)
            || seen.contains(&k.as_str());
        if !skip {
            seen.push(k);
        }
    }
    seen.reverse();
    for k in seen {
        let v = raw.get(k).unwrap_or("");
        s.push(sep);
        sep = '&';
        s.push_str(&format!(
            "{}={}",
            enc(k),
            utf8_percent_encode(v, QUERY_VALUE)
        ));
    }
    s
}

fn render_kv(raw: &RawConnInfo) -> String {
    let mut parts = Vec::new();
    for (i, (k, v)) in raw.params.iter().enumerate() {
        // Only the last occurrence counts; showing the others would mislead.
        if raw.params[i + 1..].iter().any(|(k2, _)| k2 == k) {
            continue;
        }
        let v = if k == "password" { "****" } else { v.as_str() };
        let plain = !v.is_empty()
            && !v
                .chars()
                .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
        if plain {
            parts.push(format!("{k}={v}"));
        } else {
            let q = v.replace('\\', "\\\\").replace('\'', "\\'");
            parts.push(format!("{k}='{q}'"));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
#[path = "conninfo_tests.rs"]
mod tests;
