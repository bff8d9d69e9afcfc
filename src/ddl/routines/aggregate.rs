//! `CREATE AGGREGATE` from pg_aggregate. PostgreSQL has no
//! `pg_get_aggregatedef()`, so this follows pg_dump's `dumpAgg`: every option
//! that differs from its default, in the same order.

use crate::catalog::routines::Aggregate;
use crate::pg::{qualified, quote_literal};

/// `schema.name(args)`, `(*)` for an aggregate without arguments (`count(*)`-like).
pub fn signature(a: &Aggregate, args: &str) -> String {
    let args = if a.nargs == 0 { "*" } else { args };
    format!("{}({args})", qualified(&a.schema, &a.name))
}

/// The complete `CREATE AGGREGATE` statement.
pub fn create_aggregate(a: &Aggregate) -> String {
    let mut opts = vec![
        format!("SFUNC = {}", a.sfunc),
        format!("STYPE = {}", a.stype),
    ];
    if a.sspace != 0 {
        opts.push(format!("SSPACE = {}", a.sspace));
    }
    if let Some(init) = &a.initcond {
        opts.push(format!("INITCOND = {}", quote_literal(init)));
    }
    // Ordered-set aggregates' final functions default to READ_WRITE, others' to READ_ONLY.
    let default_modify = if a.aggkind == "n" { "r" } else { "w" };
    if let Some(f) = &a.finalfunc {
        opts.push(format!("FINALFUNC = {f}"));
        if a.finalextra {
            opts.push("FINALFUNC_EXTRA".into());
        }
        if let Some(m) = modify(&a.finalmodify, default_modify) {
            opts.push(format!("FINALFUNC_MODIFY = {m}"));
        }
    }
    for (key, val) in [
        ("COMBINEFUNC", &a.combinefunc),
        ("SERIALFUNC", &a.serialfunc),
        ("DESERIALFUNC", &a.deserialfunc),
    ] {
        if let Some(v) = val {
            opts.push(format!("{key} = {v}"));
        }
    }
    if let (Some(ms), Some(minv), Some(mst)) = (&a.msfunc, &a.minvfunc, &a.mstype) {
        opts.push(format!("MSFUNC = {ms}"));
        opts.push(format!("MINVFUNC = {minv}"));
        opts.push(format!("MSTYPE = {mst}"));
        if a.msspace != 0 {
            opts.push(format!("MSSPACE = {}", a.msspace));
        }
        if let Some(init) = &a.minitcond {
            opts.push(format!("MINITCOND = {}", quote_literal(init)));
        }
        if let Some(f) = &a.mfinalfunc {
            opts.push(format!("MFINALFUNC = {f}"));
            if a.mfinalextra {
                opts.push("MFINALFUNC_EXTRA".into());
            }
            if let Some(m) = modify(&a.mfinalmodify, default_modify) {
                opts.push(format!("MFINALFUNC_MODIFY = {m}"));
            }
        }
    }
    if let Some(op) = &a.sortop {
        opts.push(format!("SORTOP = {op}"));
    }
    if a.aggkind == "h" {
        opts.push("HYPOTHETICAL".into());
    }
    match a.parallel.as_str() {
        "s" => opts.push("PARALLEL = safe".into()),
        "r" => opts.push("PARALLEL = restricted".into()),
        _ => {}
    }
    format!(
        "CREATE AGGREGATE {} (\n    {}\n);",
        signature(a, &a.args),
        opts.join(",\n    ")
    )
}

/// The `*FUNC_MODIFY` keyword when it is not the default (`0`: not recorded, PostgreSQL 10).
fn modify(code: &str, default: &str) -> Option<&'static str> {
    if code == default || code == "0" {
        return None;
    }
    match code {
        "r" => Some("READ_ONLY"),
        "s" => Some("SHAREABLE"),
        "w" => Some("READ_WRITE"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Oid;

    fn agg() -> Aggregate {
        Aggregate {
            oid: Oid::new(1),
            schema: "public".into(),
            name: "Sum it".into(),
            args: "integer".into(),
            identity_args: "integer".into(),
            nargs: 1,
            aggkind: "n".into(),
            sfunc: "int4pl".into(),
            stype: "integer".into(),
            sspace: 0,
            initcond: Some("0".into()),
            finalfunc: None,
            finalextra: false,
            finalmodify: "r".into(),
            combinefunc: Some("int4pl".into()),
            serialfunc: None,
            deserialfunc: None,
            msfunc: Some("int4pl".into()),
            minvfunc: Some("int4mi".into()),
            mstype: Some("integer".into()),
            msspace: 0,
            minitcond: Some("0".into()),
            mfinalfunc: None,
            mfinalextra: false,
            mfinalmodify: "r".into(),
            sortop: None,
            parallel: "s".into(),
            comment: None,
        }
    }

    #[test]
    fn renders_like_pg_dump() {
        assert_eq!(
            create_aggregate(&agg()),
            "CREATE AGGREGATE public.\"Sum it\"(integer) (\n    SFUNC = int4pl,\n    STYPE = integer,\n    \
             INITCOND = '0',\n    COMBINEFUNC = int4pl,\n    MSFUNC = int4pl,\n    MINVFUNC = int4mi,\n    \
             MSTYPE = integer,\n    MINITCOND = '0',\n    PARALLEL = safe\n);"
        );
    }

    #[test]
    fn zero_argument_aggregates_use_star() {
        let mut a = agg();
        a.nargs = 0;
        a.args = String::new();
        assert_eq!(signature(&a, ""), "public.\"Sum it\"(*)");
    }

    #[test]
    fn final_modify_only_when_not_default() {
        assert_eq!(modify("r", "r"), None);
        assert_eq!(modify("0", "r"), None);
        assert_eq!(modify("w", "r"), Some("READ_WRITE"));
        assert_eq!(modify("s", "w"), Some("SHAREABLE"));
    }
}
