//! Version rules: what a newer target no longer accepts as the source wrote
//! it, carried over by rule instead of failing half-way, in the spirit of
//! pg_upgrade's checks (each rule has its own precheck code, and every
//! rewrite is listed in the plan and the report, so that each difference
//! between both ends' `pg_dump` is explained).
//!
//! Applied to the source model before the plan is built, knowing the target
//! version (unknown, as in `--dry-run`: the newest rules apply):
//! - `source.incompatible.polymorphic` (14+): aggregates and operators over
//!   `anyarray`/`anyelement` that name `array_append`, `array_prepend`,
//!   `array_cat`, `array_position(s)`, `array_remove`, `array_replace` or
//!   `width_bucket`, whose arguments became `anycompatible*` in 14, are
//!   declared with `anycompatiblearray`/`anycompatible`, as the 14 release
//!   notes advise.
//! - `source.incompatible.with_oids` (12+): `WITH OIDS` tables are created
//!   without; their rows are copied, the hidden `oid` column is lost.
//! - `source.incompatible.removed_type` (12+): columns of `abstime`,
//!   `reltime`, `tinterval` become `timestamptz`, `interval`, `text` with
//!   `--map-removed-types` (the precheck fails without it).
//! - `target.generated_inheritance` (before 16): an inheritance child's
//!   generated column with the parent's expression is written without it
//!   (those targets refuse a child that spells one, and give it the parent's).
//!
//! Postfix operators (gone in 14) are skipped by the routines family and
//! named by the precheck (`source.incompatible.postfix_operator`).

use super::Rewritten;
use crate::catalog::Catalog;
use crate::pg::{qualified, quote_ident, PG11, PG12, PG13, PG14, PG16, PG17, PG18};

/// The array functions whose polymorphic arguments changed in 14.
pub const CHANGED_ARRAY_FUNCTIONS: &[&str] = &[
    "array_append",
    "array_prepend",
    "array_cat",
    "array_position",
    "array_positions",
    "array_remove",
    "array_replace",
    "width_bucket",
];

/// Types removed in 12, and what `--map-removed-types` makes of them.
pub const REMOVED_TYPES: &[(&str, &str)] = &[
    ("abstime", "timestamp with time zone"),
    ("reltime", "interval"),
    ("tinterval", "text"),
];

/// What the rules need to know.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target {
    /// `server_version_num` of the target; `None`: the newest.
    pub version: Option<i32>,
    /// `--map-removed-types`.
    pub map_removed_types: bool,
}

impl Target {
    fn at_least(&self, v: i32) -> bool {
        self.version.is_none_or(|t| t >= v)
    }
}

/// Applies every rule to `cat`; returns what was rewritten.
pub fn apply(cat: &mut Catalog, target: Target) -> Vec<Rewritten> {
    let mut out = Vec::new();
    if cat.version_num < PG14 && target.at_least(PG14) {
        polymorphic(cat, &mut out);
    }
    if cat.version_num < PG12 && target.at_least(PG12) {
        for t in cat.tables.iter().filter(|t| t.has_oids) {
            out.push(Rewritten {
                kind: "table",
                object: qualified(&t.schema, &t.name),
                change: "created without OIDS (PostgreSQL 12 and later have no WITH OIDS): \
                         the rows are copied, the hidden oid column is not"
                    .into(),
                code: "source.incompatible.with_oids",
            });
        }
        if target.map_removed_types {
            removed_types(cat, &mut out);
        }
    }
    if !target.at_least(PG16) {
        generated_children(cat, &mut out);
        if cat.version_num >= PG16 {
            xmlserialize_no_indent(cat, &mut out);
        }
    }
    if !target.at_least(PG14) {
        default_compression(cat, &mut out);
    }
    if !target.at_least(PG17) {
        no_maintain(cat, &mut out);
    }
    newer_storage_options(cat, target, &mut out);
    if !target.at_least(PG18) {
        inheritable_not_null(cat, &mut out);
        unnamed_not_null(cat, &mut out);
    }
    out
}

/// From 16 on, a view's `XMLSERIALIZE(... AS type)` reads back with ` NO
/// INDENT`, the default, which older targets cannot parse: it is dropped.
/// Only where the definition holds no more `NO INDENT)` than
/// `XMLSERIALIZE(` calls, so a string constant spelling it stays as it is
/// (and the target then refuses the view, which the rehearsal reports). An
/// `INDENT` request has no older spelling and is left to that refusal too.
fn xmlserialize_no_indent(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    const NO_INDENT: &str = " NO INDENT)";
    for v in cat.views.views.iter_mut() {
        let n = v.definition.matches(NO_INDENT).count();
        if n == 0 || n > v.definition.matches("XMLSERIALIZE(").count() {
            continue;
        }
        v.definition = v.definition.replace(NO_INDENT, ")");
        out.push(Rewritten {
            kind: if v.is_materialized() {
                "materialized view"
            } else {
                "view"
            },
            object: qualified(&v.schema, &v.name),
            change: "XMLSERIALIZE without NO INDENT, the default (the target, before 16, \
                     cannot parse it)"
                .into(),
            code: "source.incompatible.xmlserialize",
        });
    }
}

/// Table storage options and the version that introduced each (for the
/// table and its TOAST table alike): an older target refuses the whole
/// `CREATE TABLE` that names one.
const STORAGE_OPTIONS_SINCE: &[(&str, i32)] = &[
    ("toast_tuple_target", PG11),
    ("vacuum_index_cleanup", PG12),
    ("vacuum_truncate", PG12),
    ("autovacuum_vacuum_insert_threshold", PG13),
    ("autovacuum_vacuum_insert_scale_factor", PG13),
    ("autovacuum_vacuum_max_threshold", PG18),
    ("vacuum_max_eager_freeze_failure_rate", PG18),
];

/// Storage options newer than the target are left out (they tune vacuum
/// and TOAST, never what a table holds), each reported.
fn newer_storage_options(cat: &mut Catalog, target: Target, out: &mut Vec<Rewritten>) {
    let too_new = |opt: &str| {
        let key = opt.split('=').next().unwrap_or("");
        let key = key.strip_prefix("toast.").unwrap_or(key);
        STORAGE_OPTIONS_SINCE
            .iter()
            .any(|(name, since)| *name == key && !target.at_least(*since))
    };
    for t in cat.tables.iter_mut() {
        let dropped: Vec<String> = t
            .reloptions
            .iter()
            .filter(|o| too_new(o))
            .cloned()
            .collect();
        if dropped.is_empty() {
            continue;
        }
        t.reloptions.retain(|o| !too_new(o));
        out.push(Rewritten {
            kind: "table",
            object: qualified(&t.schema, &t.name),
            change: format!(
                "created without {} (storage options the target's version does not have)",
                dropped.join(", ")
            ),
            code: "source.incompatible.storage_option",
        });
    }
}

/// The `MAINTAIN` privilege is 17's: an older target refuses the whole
/// GRANT that names it, so it is left out of every ACL (the owner's own
/// entry included, which on 17+ holds it by default) and of default
/// privileges, and each grantee who had it is reported.
fn no_maintain(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    const MAINTAIN: &str = "MAINTAIN";
    for o in cat.owners.iter_mut() {
        let Some(acl) = o.acl.as_mut() else { continue };
        let before = acl.len();
        let mut grantees: Vec<String> = acl
            .iter()
            .filter(|g| g.privilege == MAINTAIN)
            .map(|g| g.grantee.clone().unwrap_or_else(|| "PUBLIC".into()))
            .collect();
        acl.retain(|g| g.privilege != MAINTAIN);
        if acl.len() == before {
            continue;
        }
        grantees.sort();
        grantees.dedup();
        out.push(Rewritten {
            kind: "grant",
            object: o.identity.clone(),
            change: format!(
                "without the MAINTAIN privilege of {} (the target, before 17, has no MAINTAIN)",
                grantees.join(", ")
            ),
            code: "source.incompatible.maintain",
        });
    }
    for d in cat.default_acls.iter_mut() {
        let before = d.acl.len();
        d.acl.retain(|g| g.privilege != MAINTAIN);
        if d.acl.len() != before {
            out.push(Rewritten {
                kind: "default privileges",
                object: match &d.schema {
                    Some(s) => format!(
                        "FOR ROLE {} IN SCHEMA {}",
                        quote_ident(&d.role),
                        quote_ident(s)
                    ),
                    None => format!("FOR ROLE {}", quote_ident(&d.role)),
                },
                change: "without the MAINTAIN privilege (the target, before 17, has no MAINTAIN)"
                    .into(),
                code: "source.incompatible.maintain",
            });
        }
    }
}

/// NOT NULL constraints have names from 18 on; older targets accept the
/// spelling and drop the name. A name the target would not have chosen
/// itself is reported (18's default names are not written at all).
fn unnamed_not_null(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    for t in cat.tables.iter_mut() {
        for c in t.columns.iter_mut() {
            let Some(name) = c.not_null_name.take() else {
                continue;
            };
            if name != crate::ddl::default_not_null_name(&t.name, &c.name) {
                out.push(Rewritten {
                    kind: "column",
                    object: format!("{}.{}", qualified(&t.schema, &t.name), quote_ident(&c.name)),
                    change: format!(
                        "NOT NULL without its name {} (the target, before 18, does not \
                         name NOT NULL constraints)",
                        quote_ident(&name)
                    ),
                    code: "source.incompatible.not_null_name",
                });
            }
        }
    }
}

/// `NOT NULL NO INHERIT` is 18's: older targets get a plain NOT NULL, which
/// their inheritance children inherit.
fn inheritable_not_null(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    for t in cat.tables.iter_mut() {
        for c in t.columns.iter_mut().filter(|c| c.not_null_no_inherit) {
            out.push(Rewritten {
                kind: "column",
                object: format!("{}.{}", qualified(&t.schema, &t.name), quote_ident(&c.name)),
                change: "NOT NULL without NO INHERIT (the target, before 18, has no \
                         NO INHERIT for NOT NULL)"
                    .into(),
                code: "source.incompatible.not_null_no_inherit",
            });
            c.not_null_no_inherit = false;
        }
    }
}

/// Targets before 14 have one TOAST compression (pglz) and no per-column
/// setting: a column set to one is created with the default.
fn default_compression(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    for t in cat.tables.iter_mut() {
        for c in t.columns.iter_mut().filter(|c| !c.compression.is_empty()) {
            out.push(Rewritten {
                kind: "column",
                object: format!("{}.{}", qualified(&t.schema, &t.name), quote_ident(&c.name)),
                change: format!(
                    "created without COMPRESSION {} (the target, before 14, compresses \
                     with pglz only)",
                    c.compression
                ),
                code: "source.incompatible.compression",
            });
            c.compression.clear();
        }
    }
}

/// The removed type a column is of (`abstime`, or its array `_abstime`).
pub fn removed_type(type_name: &str) -> Option<(&'static str, &'static str)> {
    let base = type_name.trim_start_matches('_');
    REMOVED_TYPES.iter().copied().find(|(t, _)| *t == base)
}

fn removed_types(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    for t in &mut cat.tables {
        let table = qualified(&t.schema, &t.name);
        for c in &mut t.columns {
            let Some((old, new)) = removed_type(&c.type_name) else {
                continue;
            };
            let array = if c.type_name.starts_with('_') {
                "[]"
            } else {
                ""
            };
            c.type_sql = format!("{new}{array}");
            c.binary_ok = false;
            out.push(Rewritten {
                kind: "column",
                object: format!("{table}.{}", crate::pg::quote_ident(&c.name)),
                change: format!(
                    "{old}{array} (removed in PostgreSQL 12) created as {new}{array} \
                     (--map-removed-types); values copied as text"
                ),
                code: "source.incompatible.removed_type",
            });
        }
    }
}

/// Replaces the whole words `anyarray` and `anyelement` (never inside
/// another name such as `anynonarray`).
pub fn to_anycompatible(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.as_str() {
            "anyarray" => out.push_str("anycompatiblearray"),
            "anyelement" => out.push_str("anycompatible"),
            w => out.push_str(w),
        }
        word.clear();
    };
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_changed(func: Option<&String>) -> bool {
    func.is_some_and(|f| {
        let name = f.trim_start_matches("pg_catalog.");
        CHANGED_ARRAY_FUNCTIONS.contains(&name)
    })
}

fn polymorphic_in(s: &str) -> bool {
    to_anycompatible(s) != s
}

fn polymorphic(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    for a in &mut cat.routines.aggregates {
        let uses = [
            Some(&a.sfunc),
            a.finalfunc.as_ref(),
            a.combinefunc.as_ref(),
            a.msfunc.as_ref(),
            a.minvfunc.as_ref(),
            a.mfinalfunc.as_ref(),
        ]
        .into_iter()
        .any(is_changed);
        if !uses || !(polymorphic_in(&a.args) || polymorphic_in(&a.stype)) {
            continue;
        }
        let before = format!("{}({})", qualified(&a.schema, &a.name), a.identity_args);
        a.args = to_anycompatible(&a.args);
        a.identity_args = to_anycompatible(&a.identity_args);
        a.stype = to_anycompatible(&a.stype);
        a.mstype = a.mstype.as_deref().map(to_anycompatible);
        out.push(Rewritten {
            kind: "aggregate",
            object: before,
            change: format!(
                "declared over anycompatible types ({}; state {}): the array functions it uses \
                 take anycompatible arguments since PostgreSQL 14",
                a.identity_args, a.stype
            ),
            code: "source.incompatible.polymorphic",
        });
    }
    for o in &mut cat.routines.operators {
        let sides = [o.left_type.as_deref(), o.right_type.as_deref()];
        if !is_changed(Some(&o.function)) || !sides.into_iter().flatten().any(polymorphic_in) {
            continue;
        }
        let before = format!(
            "{}({}, {})",
            qualified(&o.schema, &o.name),
            o.left_type.as_deref().unwrap_or("NONE"),
            o.right_type.as_deref().unwrap_or("NONE")
        );
        o.left_type = o.left_type.as_deref().map(to_anycompatible);
        o.right_type = o.right_type.as_deref().map(to_anycompatible);
        out.push(Rewritten {
            kind: "operator",
            object: before,
            change: format!(
                "declared over anycompatible types ({}, {}): {} takes anycompatible arguments \
                 since PostgreSQL 14",
                o.left_type.as_deref().unwrap_or("NONE"),
                o.right_type.as_deref().unwrap_or("NONE"),
                o.function
            ),
            code: "source.incompatible.polymorphic",
        });
    }
}

fn generated_children(cat: &mut Catalog, out: &mut Vec<Rewritten>) {
    // (table oid, column name, generation expression) of every generated column.
    let generated: Vec<(crate::pg::Oid, String, Option<String>)> = cat
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.is_generated())
                .map(move |c| (t.oid, c.name.clone(), c.default_sql.clone()))
        })
        .collect();
    for t in cat.tables.iter_mut().filter(|t| !t.is_partition) {
        for c in t
            .columns
            .iter_mut()
            .filter(|c| c.is_generated() && c.is_local && c.inh_count > 0)
        {
            let same = generated
                .iter()
                .any(|(o, n, e)| t.parent_oids.contains(o) && *n == c.name && *e == c.default_sql);
            if same {
                c.inherit_generation = true;
                out.push(Rewritten {
                    kind: "column",
                    object: format!(
                        "{}.{}",
                        qualified(&t.schema, &t.name),
                        crate::pg::quote_ident(&c.name)
                    ),
                    change: "generation expression inherited from the parent rather than \
                             spelled in the child (targets before 16 refuse that spelling; \
                             the expression is the same)"
                        .into(),
                    code: "target.generated_inheritance",
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_polymorphic_words_change() {
        assert_eq!(
            to_anycompatible("anyarray, anyelement, anynonarray, myanyarray"),
            "anycompatiblearray, anycompatible, anynonarray, myanyarray"
        );
        assert_eq!(
            removed_type("_abstime"),
            Some(("abstime", "timestamp with time zone"))
        );
        assert_eq!(removed_type("timestamptz"), None);
    }
}
