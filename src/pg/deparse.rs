//! Deparsed SQL written the way every supported version reads it back the
//! same: the catalog's expressions (defaults, constraints, indexes) and
//! relation options are normalised once, as they are read, so the DDL sent
//! to the target and the structure comparison of `verify --schema` both see
//! the newer spelling.

/// `B'1001'::bit varying` -> `'1001'::bit varying`.
///
/// Servers before 12 print a `bit`/`bit varying` constant as a `B'...'`
/// literal. Sent back as such, a newer server parses it as a `bit` constant
/// and stores a *cast* to the column's type (`('1001'::"bit")::bit varying`),
/// a different expression than the source's. A plain literal followed by its
/// explicit cast gives the same value and the same stored constant on every
/// version. Only literals of 0 and 1 directly followed by `::` are touched;
/// string literals and quoted identifiers are skipped whole.
pub fn plain_bit_literals(sql: &str) -> String {
    if !sql.contains("B'") {
        return sql.to_string();
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let end = quoted_end(b, i);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'B' if b.get(i + 1) == Some(&b'\'') && !ident_char(i.checked_sub(1).map(|p| b[p])) => {
                let digits = b[i + 2..]
                    .iter()
                    .take_while(|c| matches!(c, b'0' | b'1'))
                    .count();
                let close = i + 2 + digits;
                if b.get(close) == Some(&b'\'') && sql[close + 1..].starts_with("::") {
                    out.push_str(&sql[i + 1..=close]);
                    i = close + 1;
                } else {
                    out.push('B');
                    i += 1;
                }
            }
            _ => {
                // Copy one whole character (the text may hold multibyte ones).
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&sql[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// `Fillfactor=10` -> `fillfactor=10`: option names are case-insensitive, and
/// servers before 11 keep them as written while the target, reading our
/// unquoted DDL, stores them in lower case.
pub fn lower_option_names(options: Vec<String>) -> Vec<String> {
    options
        .into_iter()
        .map(|o| match o.split_once('=') {
            Some((name, value)) if name.chars().any(|c| c.is_ascii_uppercase()) => {
                format!("{}={value}", name.to_ascii_lowercase())
            }
            _ => o,
        })
        .collect()
}

/// Index just past the string literal or quoted identifier starting at `i`
/// (a doubled quote is part of it).
fn quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

fn ident_char(c: Option<u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_literals_with_a_cast_lose_their_prefix() {
        assert_eq!(
            plain_bit_literals("B'1001'::bit varying"),
            "'1001'::bit varying"
        );
        assert_eq!(
            plain_bit_literals("(b1 = B'0101'::\"bit\") AND (b2 <> B''::\"bit\")"),
            "(b1 = '0101'::\"bit\") AND (b2 <> ''::\"bit\")"
        );
    }

    #[test]
    fn other_b_quotes_are_left_alone() {
        for s in [
            "'B''1''::bit'::text",
            "\"B'1'\"::x",
            "fooB'1'::bit",
            "B'1'",
            "B'12'::bit",
            "'é' || B'1'::\"bit\"",
        ] {
            let want = if s.starts_with("'é'") {
                "'é' || '1'::\"bit\"".to_string()
            } else {
                s.to_string()
            };
            assert_eq!(plain_bit_literals(s), want, "{s}");
        }
    }

    #[test]
    fn option_names_are_lowered_not_values() {
        assert_eq!(
            lower_option_names(vec!["Fillfactor=10".into(), "check_option=LOCAL".into()]),
            vec![
                "fillfactor=10".to_string(),
                "check_option=LOCAL".to_string()
            ]
        );
    }
}
