//! The keyword list behind identifier quoting, checked against the servers
//! themselves: a keyword missing from it would be rendered bare and break
//! the DDL on the target.

use crate::support::cluster;
use pgferry::pg::ident::{is_reserved, quote_ident};

fn keywords_needing_quotes(major: u32) -> Vec<String> {
    let c = cluster(major);
    let out = c
        .psql(
            "postgres",
            "\\pset tuples_only on\n\\pset format unaligned\n\
             SELECT word FROM pg_get_keywords() WHERE catcode <> 'U' ORDER BY word;",
        )
        .unwrap();
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn every_non_unreserved_keyword_of_10_and_18_is_quoted() {
    for major in [10, 18] {
        let words = keywords_needing_quotes(major);
        assert!(
            words.len() > 100,
            "{major}: only {} keywords read",
            words.len()
        );
        let missing: Vec<&String> = words.iter().filter(|w| !is_reserved(w)).collect();
        assert!(
            missing.is_empty(),
            "PostgreSQL {major}: not quoted: {missing:?}"
        );
        for w in &words {
            assert_eq!(quote_ident(w), format!("\"{w}\""));
        }
    }
}
