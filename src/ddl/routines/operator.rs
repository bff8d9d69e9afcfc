//! `CREATE OPERATOR` and `CREATE CAST`, which have no server-side rendering.
//!
//! A commutator or negator pair references each other: the first one created
//! names the second in COMMUTATOR/NEGATOR, PostgreSQL makes a shell for it, and
//! the second's `CREATE OPERATOR` fills the shell in. So one pass works in any order.

use crate::catalog::routines::{Cast, Operator};
use crate::pg::quote_ident;

/// `schema.op` (operator names are not identifiers: only the schema is quoted).
pub fn operator_name(o: &Operator) -> String {
    format!("{}.{}", quote_ident(&o.schema), o.name)
}

/// `schema.op (left, right)`, `NONE` for a missing side: names it in COMMENT ON.
pub fn operator_signature(o: &Operator) -> String {
    format!(
        "{} ({}, {})",
        operator_name(o),
        o.left_type.as_deref().unwrap_or("NONE"),
        o.right_type.as_deref().unwrap_or("NONE")
    )
}

/// The complete `CREATE OPERATOR` statement, in pg_dump's option order.
pub fn create_operator(o: &Operator) -> String {
    // PROCEDURE is accepted by every version (FUNCTION only from 11).
    let mut opts = vec![format!("PROCEDURE = {}", o.function)];
    if let Some(l) = &o.left_type {
        opts.push(format!("LEFTARG = {l}"));
    }
    if let Some(r) = &o.right_type {
        opts.push(format!("RIGHTARG = {r}"));
    }
    if let Some(c) = &o.commutator {
        opts.push(format!("COMMUTATOR = {c}"));
    }
    if let Some(n) = &o.negator {
        opts.push(format!("NEGATOR = {n}"));
    }
    if o.merges {
        opts.push("MERGES".into());
    }
    if o.hashes {
        opts.push("HASHES".into());
    }
    if let Some(r) = &o.restrict {
        opts.push(format!("RESTRICT = {r}"));
    }
    if let Some(j) = &o.join {
        opts.push(format!("JOIN = {j}"));
    }
    format!(
        "CREATE OPERATOR {} (\n    {}\n);",
        operator_name(o),
        opts.join(",\n    ")
    )
}

/// `(source AS target)`: names the cast in CREATE and COMMENT ON.
pub fn cast_signature(c: &Cast) -> String {
    format!("({} AS {})", c.source, c.target)
}

/// The complete `CREATE CAST` statement.
pub fn create_cast(c: &Cast) -> String {
    let how = match (c.method.as_str(), &c.function) {
        ("i", _) => "WITH INOUT".to_string(),
        ("f", Some(f)) => format!("WITH FUNCTION {f}"),
        _ => "WITHOUT FUNCTION".to_string(),
    };
    let context = match c.context.as_str() {
        "a" => " AS ASSIGNMENT",
        "i" => " AS IMPLICIT",
        _ => "",
    };
    format!("CREATE CAST {} {how}{context};", cast_signature(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Oid;

    #[test]
    fn operators() {
        let o = Operator {
            oid: Oid::new(1),
            schema: "My Schema".into(),
            name: "===".into(),
            kind: "b".into(),
            left_type: Some("integer".into()),
            right_type: Some("integer".into()),
            function: "\"My Schema\".eq".into(),
            commutator: Some("OPERATOR(\"My Schema\".===)".into()),
            negator: None,
            restrict: Some("eqsel".into()),
            join: None,
            hashes: true,
            merges: false,
            comment: None,
        };
        assert_eq!(
            create_operator(&o),
            "CREATE OPERATOR \"My Schema\".=== (\n    PROCEDURE = \"My Schema\".eq,\n    \
             LEFTARG = integer,\n    RIGHTARG = integer,\n    COMMUTATOR = OPERATOR(\"My Schema\".===),\n    \
             HASHES,\n    RESTRICT = eqsel\n);"
        );
        assert_eq!(
            operator_signature(&Operator {
                left_type: None,
                ..o
            }),
            "\"My Schema\".=== (NONE, integer)"
        );
    }

    #[test]
    fn casts() {
        let mut c = Cast {
            oid: Oid::new(1),
            source: "public.a".into(),
            target: "text".into(),
            function: Some("public.f(public.a)".into()),
            method: "f".into(),
            context: "a".into(),
            comment: None,
        };
        assert_eq!(
            create_cast(&c),
            "CREATE CAST (public.a AS text) WITH FUNCTION public.f(public.a) AS ASSIGNMENT;"
        );
        c.method = "b".into();
        c.context = "e".into();
        assert_eq!(
            create_cast(&c),
            "CREATE CAST (public.a AS text) WITHOUT FUNCTION;"
        );
        c.method = "i".into();
        c.context = "i".into();
        assert_eq!(
            create_cast(&c),
            "CREATE CAST (public.a AS text) WITH INOUT AS IMPLICIT;"
        );
    }
}
