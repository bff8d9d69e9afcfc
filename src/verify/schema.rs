//! Structure comparison (`verify --schema`): is every object the plan says the
//! target should hold there, with the same definition, and nothing else?
//!
//! Both ends are read the same way (the catalog reader, then the same DDL
//! renderers), so each side's definitions come from its own server's
//! `pg_get_*def` functions, the renderings `pg_dump --schema-only` prints. The
//! source side is the plan of the task (selection, renames and version
//! rewrites applied, skipped objects left out: those are reported by the
//! migration, so they explain their own absence); the target side is the
//! plan that would recreate the target as it is. Objects are matched by kind
//! and name; definitions are compared after normalising whitespace and the
//! wording that changed between versions (`EXECUTE PROCEDURE` became
//! `EXECUTE FUNCTION` in 11). With renames, the target's names are mapped
//! back to the source's, token by token, outside literals and function bodies
//! (which renames do not touch).
//!
//! Tablespaces: the source's relations are expected where the tablespace
//! map of the selection puts them (`plan::tablespaces`: those of unmapped
//! tablespaces in the target's default, as the migration reports them); the
//! target's are rendered where they are.
//!
//! Data-dependent statements (ANALYZE, refreshes, sequence values) and, since
//! they depend on the target's roles, owners and grants are not compared.

use super::session::connect_at_start;
use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::pg::quote_ident;
use crate::pg::ConnSpec;
use crate::plan::{NameMap, Plan, Selection, Step, StepKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One object whose structure differs between the ends.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SchemaDifference {
    pub kind: String,
    pub object: String,
    /// `missing on target`, `only on target`, or `differs`.
    pub difference: &'static str,
    /// The definitions (normalised) on each end, where present.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<String>,
}

/// What `verify --schema` found.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaReport {
    /// Objects (kind and name) compared.
    pub compared: usize,
    /// Objects the migration skipped, with their reason: not expected on the
    /// target, so their absence is explained.
    pub explained: Vec<String>,
    pub differences: Vec<SchemaDifference>,
}

impl SchemaReport {
    pub fn equal(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Reads both catalogs and compares the structure the plan expects with the
/// structure the target has.
pub async fn compare_schema(ends: &Endpoints, sel: &Selection) -> anyhow::Result<SchemaReport> {
    let src = connect_at_start(&ends.source, "verify --schema (source)").await?;
    let tgt = connect_at_start(&ends.target, "verify --schema (target)").await?;
    let (scat, tcat) = tokio::try_join!(Catalog::read(&src), Catalog::read(&tgt))?;
    compare_catalogs(scat, tcat, &tgt, sel).await
}

/// [`compare_schema`] against a source catalog already read: `migrate`'s
/// closing check passes the one its plan came from (read under its
/// snapshot), which saves reading the source again at the end of the run.
pub async fn compare_schema_to(
    scat: Catalog,
    target: &ConnSpec,
    sel: &Selection,
) -> anyhow::Result<SchemaReport> {
    let tgt = connect_at_start(target, "verify --schema (target)").await?;
    let tcat = Catalog::read(&tgt).await?;
    compare_catalogs(scat, tcat, &tgt, sel).await
}

/// The comparison proper; `tgt` is a session on the target (which security
/// label providers it has loaded).
async fn compare_catalogs(
    mut scat: Catalog,
    mut tcat: Catalog,
    tgt: &tokio_postgres::Client,
    sel: &Selection,
) -> anyhow::Result<SchemaReport> {
    // Both rendered for the target's version: the version rules' rewrites
    // (`anyarray` to `anycompatiblearray`, removed types...) are expected.
    // Labels of a provider the target lacks cannot be there: the plans
    // leave them out, and the migration reports them skipped.
    let mut labels = scat.security_labels.clone();
    labels.extend(tcat.security_labels.iter().cloned());
    // The source's relations go where the tablespace map (`sel`) puts them;
    // the target's stay where they are.
    let opts = crate::plan::BuildOptions {
        target: crate::plan::compat::Target {
            version: Some(tcat.version_num),
            map_removed_types: true,
        },
        label_providers: Some(crate::catalog::seclabels::loaded_for(tgt, &labels).await?),
        target_default_tablespace: Some(tcat.tablespaces.database_default.clone()),
        ..Default::default()
    };
    let expected = crate::plan::prepare_with(&mut scat, sel, &opts)?;
    let as_is = crate::plan::BuildOptions {
        tablespaces_as_read: true,
        ..opts
    };
    let actual = crate::plan::prepare_with(&mut tcat, &Selection::default(), &as_is)?;
    Ok(compare_plans(&expected, &actual))
}

/// Kinds whose statements describe structure (not data, not roles).
fn structural(kind: StepKind) -> bool {
    !matches!(
        kind,
        StepKind::Analyze | StepKind::MaterializedViewRefresh | StepKind::Owner | StepKind::Grant
    ) && !kind.is_rename()
}

/// Definitions per (kind, object), normalised and sorted, from a plan's steps.
fn definitions<'a>(
    steps: impl Iterator<Item = &'a Step>,
    rename: &dyn Fn(&str) -> String,
) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in steps.filter(|s| structural(s.kind)) {
        let mut sql = normalise(&rename(&s.sql));
        if matches!(
            s.kind,
            StepKind::View | StepKind::MaterializedView | StepKind::Rule | StepKind::Policy
        ) {
            sql = unqualify(&sql);
        }
        out.entry((s.kind.label().to_string(), rename(&s.object)))
            .or_default()
            .push(sql);
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Compares the plan the target should match with the target's own.
pub fn compare_plans(expected: &Plan, actual: &Plan) -> SchemaReport {
    let back = reverse_names(&expected.names);
    let keep = |s: &str| s.to_string();
    let unrename = |s: &str| rename_tokens(s, &back);
    let want = definitions(expected.pre_data.iter().chain(&expected.post_data), &keep);
    let have = definitions(actual.pre_data.iter().chain(&actual.post_data), &unrename);
    let mut differences = Vec::new();
    for ((kind, object), defs) in &want {
        match have.get(&(kind.clone(), object.clone())) {
            None => differences.push(SchemaDifference {
                kind: kind.clone(),
                object: object.clone(),
                difference: "missing on target",
                source: defs.clone(),
                target: Vec::new(),
            }),
            Some(t) if t != defs => differences.push(SchemaDifference {
                kind: kind.clone(),
                object: object.clone(),
                difference: "differs",
                source: defs.clone(),
                target: t.clone(),
            }),
            Some(_) => {}
        }
    }
    for ((kind, object), defs) in &have {
        if !want.contains_key(&(kind.clone(), object.clone())) {
            differences.push(SchemaDifference {
                kind: kind.clone(),
                object: object.clone(),
                difference: "only on target",
                source: Vec::new(),
                target: defs.clone(),
            });
        }
    }
    SchemaReport {
        compared: want.len().max(have.len()),
        explained: expected
            .skipped
            .iter()
            .chain(&expected.excluded)
            .map(|s| format!("{} {}: {}", s.kind, s.object, s.reason))
            .collect(),
        differences,
    }
}

/// Whitespace collapsed, a trailing `;` dropped, and the wording that changed
/// between versions written one way.
fn normalise(sql: &str) -> String {
    let one = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = one
        .trim_end_matches(';')
        .replace(" EXECUTE PROCEDURE ", " EXECUTE FUNCTION ")
        // 16 prints XMLSERIALIZE's default explicitly.
        .replace(" NO INDENT)", ")");
    // 18 prints the alias of an UPDATE or DELETE target without `AS`.
    let words: Vec<&str> = one.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let after_target = (i >= 2 && words[i - 2] == "UPDATE")
            || (i >= 3 && words[i - 3] == "DELETE" && words[i - 2] == "FROM");
        if *w == "AS" && after_target && i + 1 < words.len() {
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}

/// A deparsed query with column references unqualified and `x AS x` said
/// once: servers deparse the same view with or without `table.` in front of
/// its columns (16 drops it for a single table), and a renamed column comes
/// back aliased to its old name. Both ends are treated alike, so the
/// comparison still sees every change of column, condition or relation.
fn unqualify(sql: &str) -> String {
    let words: Vec<&str> = sql.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = strip_qualifiers(words[i]);
        // `col AS col` (a trailing comma or parenthesis kept).
        if i + 2 < words.len() && words[i + 1] == "AS" {
            let next = strip_qualifiers(words[i + 2]);
            let bare = next.trim_end_matches([',', ')']);
            if w == bare {
                out.push(next);
                i += 3;
                continue;
            }
        }
        out.push(w);
        i += 1;
    }
    out.join(" ")
}

/// `(orders.qty` -> `(qty`: drops every `identifier.` prefix of a word,
/// outside string literals.
fn strip_qualifiers(word: &str) -> String {
    if word.contains('\'') {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut token = String::new();
    for c in word.chars() {
        if c.is_alphanumeric() || c == '_' || c == '"' {
            token.push(c);
        } else if c == '.' && !token.is_empty() && !token.chars().all(|x| x.is_ascii_digit()) {
            token.clear();
        } else {
            out.push_str(&token);
            token.clear();
            out.push(c);
        }
    }
    out.push_str(&token);
    out
}

/// Final identifier (as rendered) -> source identifier (as rendered), for
/// every renamed schema, table and column.
fn reverse_names(names: &NameMap) -> HashMap<String, String> {
    let mut back = HashMap::new();
    for (_, from, to) in names.listing_raw() {
        if let (Some(f), Some(t)) = (from.last(), to.last()) {
            back.insert(quote_ident(t), quote_ident(f));
        }
        if let (Some(f), Some(t)) = (from.first(), to.first()) {
            back.insert(quote_ident(t), quote_ident(f));
        }
    }
    for (from, to) in names.column_pairs() {
        back.insert(quote_ident(&to), quote_ident(&from));
    }
    back.retain(|k, v| k != v);
    back
}

/// Replaces whole identifiers (bare or double-quoted) found in `map`, leaving
/// string literals and dollar-quoted bodies alone.
fn rename_tokens(sql: &str, map: &HashMap<String, String>) -> String {
    if map.is_empty() {
        return sql.to_string();
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b'\'' {
            i += 1;
            while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                i += if b[i] == b'\'' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            let literal = &sql[start..i];
            // A relation named in a regclass literal (`nextval('s.t_seq'::regclass)`)
            // is a name like any other.
            if sql[i..].starts_with("::regclass") && literal.len() >= 2 {
                let inner = &literal[1..literal.len() - 1];
                out.push('\'');
                out.push_str(&rename_tokens(inner, map));
                out.push('\'');
            } else {
                out.push_str(literal);
            }
        } else if c == b'$' {
            // A dollar quote: $$ or $tag$ ... same tag.
            let tag_end = sql[i + 1..].find('$').map(|p| i + 1 + p).filter(|&e| {
                sql[i + 1..e]
                    .bytes()
                    .all(|x| x.is_ascii_alphanumeric() || x == b'_')
            });
            match tag_end {
                Some(e) => {
                    let tag = &sql[i..=e];
                    let body_end = sql[e + 1..]
                        .find(tag)
                        .map_or(b.len(), |p| e + 1 + p + tag.len());
                    out.push_str(&sql[start..body_end]);
                    i = body_end;
                }
                None => {
                    out.push('$');
                    i += 1;
                }
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && !(b[i] == b'"' && b.get(i + 1) != Some(&b'"')) {
                i += if b[i] == b'"' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            let tok = &sql[start..i];
            out.push_str(map.get(tok).map_or(tok, String::as_str));
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            let tok = &sql[start..i];
            out.push_str(map.get(tok).map_or(tok, String::as_str));
        } else {
            // One character (a UTF-8 sequence starts >= 0x80, handled above).
            i += 1;
            out.push_str(&sql[start..i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn renames_whole_identifiers_outside_literals_and_bodies() {
        let m = map(&[("orders2", "orders"), ("\"New\"", "\"Old\"")]);
        assert_eq!(
            rename_tokens("SELECT orders2.a, orders2x FROM s.orders2", &m),
            "SELECT orders.a, orders2x FROM s.orders"
        );
        assert_eq!(
            rename_tokens("COMMENT ON TABLE orders2 IS 'orders2 it''s';", &m),
            "COMMENT ON TABLE orders IS 'orders2 it''s';"
        );
        assert_eq!(
            rename_tokens(
                "CREATE FUNCTION f() AS $b$ select orders2 $b$ LANGUAGE sql; orders2",
                &m
            ),
            "CREATE FUNCTION f() AS $b$ select orders2 $b$ LANGUAGE sql; orders"
        );
        assert_eq!(
            rename_tokens("x \"New\" $1 größe", &m),
            "x \"Old\" $1 größe"
        );
    }

    #[test]
    fn views_compare_without_column_qualifiers_or_same_name_aliases() {
        assert_eq!(
            unqualify(
                "SELECT orders.id, orders.qty AS qty FROM shop.orders WHERE (orders.qty > 100)"
            ),
            unqualify("SELECT id, qty FROM shop.orders WHERE (qty > 100)")
        );
        assert_ne!(
            unqualify("SELECT id, qty AS n FROM shop.orders"),
            unqualify("SELECT id, qty FROM shop.orders")
        );
        assert_eq!(
            unqualify("SELECT 1.5, 'a.b' FROM t"),
            "SELECT 1.5, 'a.b' FROM t"
        );
    }

    #[test]
    fn alias_and_xmlserialize_wording_is_one() {
        assert_eq!(
            normalise("UPDATE rules_log AS trgt SET tag = 'x'"),
            normalise("UPDATE rules_log trgt SET tag = 'x'")
        );
        assert_eq!(
            normalise("WITH d AS ( DELETE FROM int4_tbl AS t WHERE (f1 = 0) )"),
            normalise("WITH d AS ( DELETE FROM int4_tbl t WHERE (f1 = 0) )")
        );
        assert_eq!(
            normalise("SELECT XMLSERIALIZE(CONTENT 'good'::xml AS text NO INDENT) AS x"),
            normalise("SELECT XMLSERIALIZE(CONTENT 'good'::xml AS text) AS x")
        );
        // Other aliases keep their AS.
        assert!(normalise("SELECT a AS b FROM t").contains("a AS b"));
    }

    #[test]
    fn wording_that_changed_between_versions_is_one() {
        assert_eq!(
            normalise("CREATE TRIGGER t BEFORE INSERT ON a\n  FOR EACH ROW EXECUTE PROCEDURE f();"),
            normalise("CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f()")
        );
    }
}
