//! `CREATE OPERATOR FAMILY`, `CREATE OPERATOR CLASS` and the loose members of a
//! family (`ALTER OPERATOR FAMILY ... ADD`), as pg_dump's dumpOpfamily and
//! dumpOpclass write them. Families are created explicitly and every class
//! names its family, so an implicitly created family comes out the same.

use crate::catalog::routines::{OpClass, OpFamily, OpMember};
use crate::pg::{qualified, quote_ident};

/// `schema.name USING am`: names a family or class in COMMENT ON and ALTER.
pub fn family_name(f: &OpFamily) -> String {
    format!(
        "{} USING {}",
        qualified(&f.schema, &f.name),
        quote_ident(&f.am)
    )
}

/// `schema.name USING am` of a class.
pub fn class_name(c: &OpClass) -> String {
    format!(
        "{} USING {}",
        qualified(&c.schema, &c.name),
        quote_ident(&c.am)
    )
}

pub fn create_family(f: &OpFamily) -> String {
    format!("CREATE OPERATOR FAMILY {};", family_name(f))
}

/// The family's loose members, or nothing when all belong to its classes.
pub fn add_loose_members(f: &OpFamily) -> Option<String> {
    if f.members.is_empty() {
        return None;
    }
    let items: Vec<String> = f.members.iter().map(member).collect();
    Some(format!(
        "ALTER OPERATOR FAMILY {} ADD\n    {};",
        family_name(f),
        items.join(",\n    ")
    ))
}

pub fn create_class(c: &OpClass) -> String {
    let mut items: Vec<String> = c.members.iter().map(member).collect();
    // STORAGE equal to the indexed type is what "no STORAGE" means; it also
    // keeps the item list non-empty for a class without members.
    match (&c.storage, items.is_empty()) {
        (Some(s), _) => items.push(format!("STORAGE {s}")),
        (None, true) => items.push(format!("STORAGE {}", c.for_type)),
        (None, false) => {}
    }
    format!(
        "CREATE OPERATOR CLASS {}\n    {}FOR TYPE {} USING {} FAMILY {} AS\n    {};",
        qualified(&c.schema, &c.name),
        if c.is_default { "DEFAULT " } else { "" },
        c.for_type,
        quote_ident(&c.am),
        c.family,
        items.join(",\n    ")
    )
}

fn member(m: &OpMember) -> String {
    if m.kind == "OPERATOR" {
        let purpose = m
            .sort_family
            .as_ref()
            .map(|f| format!(" FOR ORDER BY {f}"))
            .unwrap_or_default();
        format!("OPERATOR {} {}{purpose}", m.num, m.what)
    } else {
        format!(
            "FUNCTION {} ({}, {}) {}",
            m.num, m.left_type, m.right_type, m.what
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Oid;

    #[test]
    fn class_with_members() {
        let c = OpClass {
            oid: Oid::new(1),
            schema: "public".into(),
            name: "mod10_ops".into(),
            am: "btree".into(),
            is_default: false,
            for_type: "integer".into(),
            family_oid: Oid::new(2),
            family: "public.mod10_ops".into(),
            storage: None,
            members: vec![
                OpMember {
                    kind: "OPERATOR".into(),
                    num: 3,
                    left_type: "integer".into(),
                    right_type: "integer".into(),
                    what: "public.=~=(integer,integer)".into(),
                    sort_family: None,
                },
                OpMember {
                    kind: "FUNCTION".into(),
                    num: 1,
                    left_type: "integer".into(),
                    right_type: "integer".into(),
                    what: "public.cmp(integer,integer)".into(),
                    sort_family: None,
                },
            ],
            comment: None,
        };
        assert_eq!(
            create_class(&c),
            "CREATE OPERATOR CLASS public.mod10_ops\n    FOR TYPE integer USING btree FAMILY \
             public.mod10_ops AS\n    OPERATOR 3 public.=~=(integer,integer),\n    \
             FUNCTION 1 (integer, integer) public.cmp(integer,integer);"
        );
    }
}
