//! Both ends as servers: who we are logged in as, versions, TLS, encoding and locale.

use super::{Context, Finding};
use crate::pg::{quote_ident, quote_literal, ConnSpec};
use anyhow::Context as _;
use serde::Serialize;
use tokio_postgres::Client;

/// One end, as reported in the precheck output.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// The connection string with the password removed.
    pub endpoint: String,
    /// `server_version`, e.g. `15.10 (Debian 15.10-1)`.
    pub version: String,
    pub version_num: i32,
    pub login: String,
    pub superuser: bool,
    pub database: String,
    pub encoding: String,
    pub lc_collate: String,
    pub lc_ctype: String,
    /// `libc`, `icu` or `builtin`.
    pub locale_provider: String,
    /// The login may create schemas in the database.
    pub can_create: bool,
    /// The session is encrypted, and how.
    pub ssl: bool,
    pub ssl_version: Option<String>,
    pub ssl_cipher: Option<String>,
}

/// Reads [`ServerInfo`] (one query that runs on every supported version).
pub(super) async fn info(client: &Client, spec: &ConnSpec) -> anyhow::Result<ServerInfo> {
    let sql = include_str!("../../sql/precheck/server_info.sql");
    let r = client
        .query_typed_one(sql, &[])
        .await
        .context("reading server information (sql/precheck/server_info.sql)")?;
    Ok(ServerInfo {
        endpoint: spec.redacted().to_string(),
        version: r.get("version"),
        version_num: r.get("version_num"),
        login: r.get("login"),
        superuser: r.get("superuser"),
        database: r.get("database"),
        encoding: r.get("encoding"),
        lc_collate: r.get("lc_collate"),
        lc_ctype: r.get("lc_ctype"),
        locale_provider: r.get("locale_provider"),
        can_create: r.get("can_create"),
        ssl: r.get("ssl"),
        ssl_version: r.get("ssl_version"),
        ssl_cipher: r.get("ssl_cipher"),
    })
}

/// `150010` -> `15`, `90624` -> `9.6`.
fn major(num: i32) -> String {
    if num >= crate::pg::PG10 {
        (num / 10000).to_string()
    } else {
        format!("{}.{}", num / 10000, num / 100 % 100)
    }
}

/// Comparable major: 15 -> 1500, 9.6 -> 906.
fn major_key(num: i32) -> i32 {
    if num >= crate::pg::PG10 {
        num / 10000 * 100
    } else {
        num / 100
    }
}

/// Source version support (10+ tested, 9.4-9.6 best effort) and target not older than source.
pub(super) fn versions(cx: &Context<'_>) -> Vec<Finding> {
    let (s, t) = (cx.src.version_num, cx.tgt.version_num);
    let tls = |i: &ServerInfo| match (&i.ssl_version, &i.ssl_cipher) {
        (Some(v), Some(c)) if i.ssl => format!("TLS {v} {c}"),
        _ => "no TLS".to_string(),
    };
    let mut out = Vec::new();
    let src_line = format!(
        "source: PostgreSQL {} as {} on database {} ({})",
        cx.src.version,
        cx.src.login,
        cx.src.database,
        tls(cx.src)
    );
    out.push(if s >= crate::pg::PG10 {
        Finding::pass("source.version", src_line)
    } else if s >= 90400 {
        Finding::warning(
            "source.version",
            format!("{src_line}: {} is supported on a best-effort basis (tested: 10 and newer)", major(s)),
            "check the migrated database carefully (pgferry verify), and upgrade the source if you can",
        )
    } else {
        Finding::failure(
            "source.version",
            format!("{src_line}: {} is older than 9.4, which pgferry does not support", major(s)),
            "upgrade the source to 9.4 or newer (10 or newer preferred), or use pg_dump",
        )
    });
    let tgt_line = format!(
        "target: PostgreSQL {} as {} on database {} ({})",
        cx.tgt.version,
        cx.tgt.login,
        cx.tgt.database,
        tls(cx.tgt)
    );
    out.push(if major_key(s) > major_key(t) {
        Finding::warning(
            "target.version",
            format!("{tgt_line}: the target ({}) is older than the source ({}); features of the newer server may not be creatable", major(t), major(s)),
            format!("use a target server of version {} or newer", major(s)),
        )
    } else {
        Finding::pass("target.version", tgt_line)
    });
    out
}

/// Encoding and locale: data the target cannot represent is rejected, and a
/// different collation changes the order of text (and of indexes over it).
pub(super) fn encoding(cx: &Context<'_>) -> Vec<Finding> {
    let (s, t) = (cx.src, cx.tgt);
    let create_db = format!(
        "create the target database with CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        quote_ident(&t.database),
        quote_literal(&s.encoding),
        quote_literal(&s.lc_collate),
        quote_literal(&s.lc_ctype)
    );
    let mut out = Vec::new();
    let enc = format!(
        "source encoding {}, target encoding {}",
        s.encoding, t.encoding
    );
    out.push(if s.encoding == t.encoding || t.encoding == "UTF8" && s.encoding != "SQL_ASCII" {
        Finding::pass("target.encoding", enc)
    } else if t.encoding == "SQL_ASCII" || (t.encoding != "UTF8" && s.encoding != "SQL_ASCII") {
        Finding::failure(
            "target.encoding",
            format!("{enc}: characters of the source may be rejected by, or lose their meaning on, the target"),
            create_db.clone(),
        )
    } else {
        Finding::warning(
            "target.encoding",
            format!("{enc}: SQL_ASCII data is not checked on the source; bytes that are not valid {} will be rejected", t.encoding),
            format!("clean invalid bytes on the source first, or {create_db}"),
        )
    });
    let loc = |i: &ServerInfo| {
        format!(
            "{} LC_COLLATE={} LC_CTYPE={}",
            i.locale_provider, i.lc_collate, i.lc_ctype
        )
    };
    out.push(if loc(s) == loc(t) {
        Finding::pass("target.locale", format!("same locale on both ends ({})", loc(s)))
    } else {
        Finding::warning(
            "target.locale",
            format!("locale differs: source {}, target {}; text sorts and compares differently (ORDER BY, unique indexes on text, range partitions on text)", loc(s), loc(t)),
            create_db,
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::major;

    #[test]
    fn majors() {
        assert_eq!(major(150010), "15");
        assert_eq!(major(100023), "10");
        assert_eq!(major(90624), "9.6");
    }
}
