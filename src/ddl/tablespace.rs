//! `TABLESPACE` clauses. The server's renderings of indexes and constraints
//! (`pg_get_indexdef`, `pg_get_constraintdef`) never name a tablespace, so the
//! clause is put where the grammar wants it: in `CREATE INDEX`, after
//! `WITH (...)` and before `WHERE`; in a primary key, unique or exclusion
//! constraint, `USING INDEX TABLESPACE` after the index parameters and before
//! an exclusion constraint's `WHERE (...)` and `DEFERRABLE`. Only words
//! outside parentheses, string literals and quoted identifiers count, so an
//! expression, a literal or a name never moves the clause.

use crate::pg::quote_ident;

/// `CREATE INDEX` (as `pg_get_indexdef` prints it, no trailing `;`) created
/// in `tablespace`; unchanged for `None` (the target's default).
pub fn index_in(def: &str, tablespace: Option<&str>) -> String {
    insert(
        def,
        &[" WHERE "],
        tablespace.map(|t| format!(" TABLESPACE {}", quote_ident(t))),
    )
}

/// A primary key, unique or exclusion constraint's definition (as
/// `pg_get_constraintdef` prints it) whose index is created in `tablespace`;
/// unchanged for `None`.
pub fn constraint_in(def: &str, tablespace: Option<&str>) -> String {
    insert(
        def,
        &[" WHERE ", " DEFERRABLE", " INITIALLY "],
        tablespace.map(|t| format!(" USING INDEX TABLESPACE {}", quote_ident(t))),
    )
}

/// `def` with `clause` before the first of `before` found at the top level,
/// or at its end.
fn insert(def: &str, before: &[&str], clause: Option<String>) -> String {
    let Some(clause) = clause else {
        return def.to_string();
    };
    let at = top_level(def, before).unwrap_or(def.len());
    format!("{}{clause}{}", &def[..at], &def[at..])
}

/// Where the first of `words` starts outside parentheses, `'...'` literals
/// and `"..."` identifiers (both with their doubled-quote escapes).
fn top_level(s: &str, words: &[&str]) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q && b.get(i + 1) == Some(&q) {
                        i += 2;
                    } else if b[i] == q {
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && words.iter().any(|w| s[i..].starts_with(w)) => {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_tablespace_goes_after_with_and_before_where() {
        assert_eq!(
            index_in("CREATE INDEX i ON public.t USING btree (a)", Some("ts_b")),
            "CREATE INDEX i ON public.t USING btree (a) TABLESPACE ts_b"
        );
        assert_eq!(
            index_in(
                "CREATE UNIQUE INDEX i ON ONLY public.t USING btree (a) INCLUDE (b) \
                 WITH (fillfactor='70') WHERE (a > 0)",
                Some("Fast Disk")
            ),
            "CREATE UNIQUE INDEX i ON ONLY public.t USING btree (a) INCLUDE (b) \
             WITH (fillfactor='70') TABLESPACE \"Fast Disk\" WHERE (a > 0)"
        );
        // A boolean column predicate has no parentheses.
        assert_eq!(
            index_in(
                "CREATE INDEX i ON public.t USING btree (a) WHERE flag",
                Some("x")
            ),
            "CREATE INDEX i ON public.t USING btree (a) TABLESPACE x WHERE flag"
        );
        assert_eq!(
            index_in("CREATE INDEX i ON public.t USING btree (a)", None),
            "CREATE INDEX i ON public.t USING btree (a)"
        );
    }

    #[test]
    fn words_inside_names_literals_and_expressions_do_not_count() {
        let def = "CREATE INDEX \"a WHERE b\" ON \"s WHERE \".\"t WHERE \" USING btree \
                   ((c || ' WHERE (')) WHERE (d <> ' WHERE '' ) ')";
        assert_eq!(
            index_in(def, Some("x")),
            "CREATE INDEX \"a WHERE b\" ON \"s WHERE \".\"t WHERE \" USING btree \
             ((c || ' WHERE (')) TABLESPACE x WHERE (d <> ' WHERE '' ) ')"
        );
    }

    #[test]
    fn constraint_index_tablespace_goes_before_where_and_deferrable() {
        assert_eq!(
            constraint_in("PRIMARY KEY (a, b)", Some("ts")),
            "PRIMARY KEY (a, b) USING INDEX TABLESPACE ts"
        );
        assert_eq!(
            constraint_in(
                "UNIQUE NULLS NOT DISTINCT (a) INCLUDE (c) DEFERRABLE",
                Some("ts")
            ),
            "UNIQUE NULLS NOT DISTINCT (a) INCLUDE (c) USING INDEX TABLESPACE ts DEFERRABLE"
        );
        assert_eq!(
            constraint_in(
                "EXCLUDE USING gist (c WITH &&) WHERE ((b > 0)) DEFERRABLE INITIALLY DEFERRED",
                Some("ts")
            ),
            "EXCLUDE USING gist (c WITH &&) USING INDEX TABLESPACE ts WHERE ((b > 0)) \
             DEFERRABLE INITIALLY DEFERRED"
        );
        assert_eq!(
            constraint_in("PRIMARY KEY (id, valid_at WITHOUT OVERLAPS)", Some("ts")),
            "PRIMARY KEY (id, valid_at WITHOUT OVERLAPS) USING INDEX TABLESPACE ts"
        );
        assert_eq!(constraint_in("PRIMARY KEY (a)", None), "PRIMARY KEY (a)");
    }
}
