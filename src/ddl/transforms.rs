//! `CREATE TRANSFORM` (pre-data), as pg_dump writes it (`dumpTransform`).
//!
//! The builder puts transforms after the functions and types; `pg_depend`
//! then orders each one after the user type and functions it names, and
//! each function that uses it (`TRANSFORM FOR TYPE`, or a type with a
//! transform for the function's language) after it. A transform has no
//! owner (`--keep-owners` does not apply) and no schema; a language the
//! target lacks is found by the precheck's rehearsal (`target.ddl`).

use super::comment;
use crate::catalog::transforms::Transform;
use crate::catalog::Catalog;
use crate::pg::quote_ident;
use crate::step::{Phase, Step, StepKind};

/// `FOR type LANGUAGE lang`: how the transform is named (its comment, the
/// plan's object name).
pub fn transform_name(t: &Transform) -> String {
    format!("FOR {} LANGUAGE {}", t.type_name, quote_ident(&t.language))
}

/// `CREATE TRANSFORM FOR type LANGUAGE lang (FROM SQL WITH FUNCTION f(internal),
/// TO SQL WITH FUNCTION g(internal));`.
pub fn create_transform(t: &Transform) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &t.from_sql {
        parts.push(format!("FROM SQL WITH FUNCTION {f}"));
    }
    if let Some(f) = &t.to_sql {
        parts.push(format!("TO SQL WITH FUNCTION {f}"));
    }
    format!(
        "CREATE TRANSFORM {} ({});",
        transform_name(t),
        parts.join(", ")
    )
}

/// The transforms and their comments.
pub fn steps(cat: &Catalog) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    for t in &cat.transforms {
        let name = transform_name(t);
        out.push(Step::new(pre, StepKind::Transform, name.clone(), create_transform(t)).of(t.oid));
        if let Some(sql) = comment(&format!("TRANSFORM {name}"), &t.comment) {
            out.push(Step::new(pre, StepKind::Comment, name, sql).of(t.oid));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transform() -> Transform {
        Transform {
            oid: crate::pg::Oid::new(1),
            type_name: "\"Tr\".pt".into(),
            type_schema: "Tr".into(),
            language: "sql".into(),
            from_sql: Some("\"Tr\".fs(internal)".into()),
            to_sql: Some("\"Tr\".ts(internal)".into()),
            comment: Some("it's".into()),
        }
    }

    #[test]
    fn renders_as_pg_dump_does() {
        let mut t = transform();
        assert_eq!(
            create_transform(&t),
            "CREATE TRANSFORM FOR \"Tr\".pt LANGUAGE sql (FROM SQL WITH FUNCTION \
             \"Tr\".fs(internal), TO SQL WITH FUNCTION \"Tr\".ts(internal));"
        );
        t.from_sql = None;
        t.language = "PL Odd".into();
        assert_eq!(
            create_transform(&t),
            "CREATE TRANSFORM FOR \"Tr\".pt LANGUAGE \"PL Odd\" (TO SQL WITH FUNCTION \
             \"Tr\".ts(internal));"
        );
    }

    #[test]
    fn the_comment_goes_with_the_transform() {
        let cat = Catalog {
            transforms: vec![transform()],
            ..Default::default()
        };
        let s = steps(&cat);
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|x| x.oid == Some(crate::pg::Oid::new(1))));
        assert_eq!(
            s[1].sql,
            "COMMENT ON TRANSFORM FOR \"Tr\".pt LANGUAGE sql IS 'it''s';"
        );
    }
}
