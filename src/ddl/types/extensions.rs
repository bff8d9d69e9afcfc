//! `CREATE EXTENSION` and `CREATE COLLATION`.

use crate::catalog::types::{Collation, Extension};
use crate::pg::{qualified, quote_ident, quote_literal};

/// `CREATE EXTENSION`, keeping the source's extension version only when the
/// target runs the same major and can install that version.
///
/// pg_dump never writes `VERSION`, so a restore gets the target's default
/// version. We do better where it is safe: on the same major an older version
/// kept on the source (e.g. after `pg_upgrade` without `ALTER EXTENSION
/// UPDATE`) is reproduced exactly; across majors the source's version may not
/// exist on the target, or may not match the target's shared library, so the
/// target's default version is used, as `ALTER EXTENSION UPDATE` would give.
/// The plan does not know the target's version, so the choice is made on the
/// target, in one `DO` block: a versioned CREATE that fails (no such version
/// script) falls back to the default version; if that fails too, its error is
/// the one reported.
pub fn create_extension(e: &Extension, source_version_num: i32) -> String {
    let plain = format!(
        "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
        quote_ident(&e.name),
        quote_ident(&e.schema)
    );
    format!(
        "DO $pgferry$\nBEGIN\n    \
         IF pg_catalog.current_setting('server_version_num')::int4 / 10000 = {major} THEN\n        \
         BEGIN\n            \
         {plain} VERSION {version};\n            \
         RETURN;\n        \
         EXCEPTION WHEN OTHERS THEN\n            \
         NULL; -- not installable at that version here: use the default\n        \
         END;\n    \
         END IF;\n    \
         {plain};\nEND\n$pgferry$;",
        major = source_version_num / 10000,
        version = quote_literal(&e.version),
    )
}

/// `COMMENT ON EXTENSION`, run only when the target's comment differs from the
/// source's: CREATE EXTENSION sets the control file's comment, and commenting
/// needs ownership of an extension that may have been there before us.
pub fn extension_comment(e: &Extension) -> String {
    let value = e
        .comment
        .as_deref()
        .map_or_else(|| "NULL".to_string(), quote_literal);
    format!(
        "DO $pgferry$\nBEGIN\n    \
         IF pg_catalog.obj_description((SELECT oid FROM pg_catalog.pg_extension \
         WHERE extname = {name}), 'pg_extension') IS DISTINCT FROM {value} THEN\n        \
         COMMENT ON EXTENSION {ident} IS {value};\n    \
         END IF;\nEND\n$pgferry$;",
        name = quote_literal(&e.name),
        ident = quote_ident(&e.name),
    )
}

/// `CREATE COLLATION` with the options the source's catalog holds.
pub fn create_collation(c: &Collation) -> String {
    let mut opts: Vec<String> = Vec::new();
    let lit = |s: &Option<String>| quote_literal(s.as_deref().unwrap_or(""));
    match c.provider.as_str() {
        "i" => {
            opts.push("provider = icu".into());
            opts.push(format!("locale = {}", lit(&c.locale)));
        }
        "b" => {
            opts.push("provider = builtin".into());
            opts.push(format!("locale = {}", lit(&c.locale)));
        }
        _ => {
            opts.push("provider = libc".into());
            if c.collate == c.ctype {
                opts.push(format!("locale = {}", lit(&c.collate)));
            } else {
                opts.push(format!("lc_collate = {}", lit(&c.collate)));
                opts.push(format!("lc_ctype = {}", lit(&c.ctype)));
            }
        }
    }
    if !c.deterministic {
        opts.push("deterministic = false".into());
    }
    if let Some(rules) = &c.rules {
        opts.push(format!("rules = {}", quote_literal(rules)));
    }
    format!(
        "CREATE COLLATION {} ({});",
        qualified(&c.schema, &c.name),
        opts.join(", ")
    )
}
