//! Object names and patterns as psql and pg_dump read them.
//!
//! Users write names the way PostgreSQL does: an unquoted identifier folds
//! to lower case, double quotes keep case and allow dots and spaces (`""` is
//! a quote inside quotes), and `*` / `?` are globs only outside quotes. One
//! parser serves the task file and the flags so both mean the same thing.

use std::fmt;

/// Why a name or pattern could not be read; the caller adds which entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(pub String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for NameError {}

fn err<T>(msg: impl Into<String>) -> Result<T, NameError> {
    Err(NameError(msg.into()))
}

/// One piece of a name part: a literal character, or a glob outside quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
}

/// One dot-separated part of a pattern, already case-folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePat {
    toks: Vec<Tok>,
}

impl NamePat {
    /// True when the part has a `*` or `?` outside quotes.
    pub fn is_glob(&self) -> bool {
        self.toks.iter().any(|t| !matches!(t, Tok::Char(_)))
    }

    /// The exact name, when the part has no glob.
    pub fn exact(&self) -> Option<String> {
        self.toks
            .iter()
            .map(|t| match t {
                Tok::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Whether `name` (a raw catalog name) matches the part.
    pub fn matches(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        glob(&self.toks, &chars)
    }
}

/// Iterative glob match with backtracking to the last `*` (linear in practice).
fn glob(p: &[Tok], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                si += 1;
            }
            Some(Tok::Char(c)) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|t| *t == Tok::Any)
}

/// Splits `text` into dot-separated parts, folding unquoted letters to lower
/// case; returns the parts and the rest of the text after them (a `(`).
fn parts(text: &str) -> Result<(Vec<NamePat>, &str), NameError> {
    let mut out = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) if matches!(chars.peek(), Some((_, '"'))) => {
                        chars.next();
                        cur.push(Tok::Char('"'));
                    }
                    Some((_, '"')) => break,
                    Some((_, q)) => cur.push(Tok::Char(q)),
                    None => return err("unterminated double quote"),
                }
            },
            '.' => {
                if cur.is_empty() {
                    return err("empty name before a dot");
                }
                out.push(NamePat {
                    toks: std::mem::take(&mut cur),
                });
            }
            '(' => {
                if cur.is_empty() {
                    return err("a column list must follow a table name");
                }
                out.push(NamePat { toks: cur });
                return Ok((out, &text[i..]));
            }
            '*' => cur.push(Tok::Any),
            '?' => cur.push(Tok::One),
            c if c.is_whitespace() => {
                return err("spaces are only allowed inside double quotes");
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                cur.push(Tok::Char(c.to_ascii_lowercase()))
            }
            c => return err(format!("unexpected character {c:?} (quote the name?)")),
        }
    }
    if cur.is_empty() {
        return err(if out.is_empty() {
            "empty name"
        } else {
            "empty name after a dot"
        });
    }
    out.push(NamePat { toks: cur });
    Ok((out, ""))
}

/// Reads one exact identifier (no globs), as in a column list.
fn ident(text: &str) -> Result<String, NameError> {
    let (p, rest) = parts(text.trim())?;
    if !rest.is_empty() || p.len() != 1 {
        return err(format!("`{}` is not a single column name", text.trim()));
    }
    p[0].exact()
        .ok_or_else(|| NameError(format!("no globs in column names (`{}`)", text.trim())))
}

/// A selection pattern: `schema`, `schema.table` or `schema.table(col, ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// As the user wrote it, for messages.
    pub text: String,
    pub schema: NamePat,
    pub table: Option<NamePat>,
    /// The listed columns, when the pattern names some.
    pub columns: Option<Vec<String>>,
}

impl Pattern {
    /// Parses a pattern; `*` and `?` are globs outside double quotes.
    pub fn parse(text: &str) -> Result<Pattern, NameError> {
        let t = text.trim();
        let (mut p, rest) = parts(t)?;
        let columns = if rest.is_empty() {
            None
        } else {
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| NameError("a column list is `(col, col)` at the end".into()))?;
            let cols = split_top(inner)
                .into_iter()
                .map(ident)
                .collect::<Result<Vec<_>, _>>()?;
            if cols.is_empty() {
                return err("empty column list");
            }
            Some(cols)
        };
        for part in p.iter().filter_map(NamePat::exact) {
            check_length(&part)?;
        }
        for c in columns.iter().flatten() {
            check_length(c)?;
        }
        match (p.len(), &columns) {
            (1, None) | (2, _) => {}
            (1, Some(_)) => return err("a column list needs `schema.table(col, ...)`"),
            _ => {
                return err(
                    "too many dots: write `schema`, `schema.table` or `schema.table(col, col)` \
                     (quote names that contain dots)",
                )
            }
        }
        if columns.is_some() && p.iter().any(NamePat::is_glob) {
            return err("a pattern with a column list must name one table, without globs");
        }
        let table = (p.len() == 2).then(|| p.remove(1));
        Ok(Pattern {
            text: t.to_string(),
            schema: p.remove(0),
            table,
            columns,
        })
    }
}

/// Splits a column list at commas outside double quotes.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() || !out.is_empty() {
        out.push(&s[start..]);
    }
    out
}

/// An exact dotted name of 1 to 3 parts (`schema`, `schema.table`,
/// `schema.table.column`), as rename keys and values are written.
pub fn exact_name(text: &str, min: usize, max: usize) -> Result<Vec<String>, NameError> {
    let (p, rest) = parts(text.trim())?;
    if !rest.is_empty() {
        return err("no column list in a name");
    }
    if p.len() < min || p.len() > max {
        let want = ["schema", "schema.table", "schema.table.column"];
        let forms: Vec<&str> = want[min - 1..max].to_vec();
        return err(format!(
            "expected {} (quote names that contain dots)",
            forms.join(" or ")
        ));
    }
    p.iter()
        .map(|n| {
            let name = n
                .exact()
                .ok_or_else(|| NameError("no globs in a rename".into()))?;
            check_length(&name)?;
            Ok(name)
        })
        .collect()
}

/// PostgreSQL's longest name: NAMEDATALEN - 1 bytes.
pub const MAX_NAME_BYTES: usize = 63;

/// A name longer than PostgreSQL keeps is an error: the server would cut it
/// to 63 bytes without a word, and the cut name may collide with another.
pub fn check_length(name: &str) -> Result<(), NameError> {
    if name.len() <= MAX_NAME_BYTES {
        return Ok(());
    }
    let mut cut = MAX_NAME_BYTES;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    err(format!(
        "the name `{name}` is {} bytes; PostgreSQL names are at most {MAX_NAME_BYTES} bytes \
         (NAMEDATALEN - 1) and it would be cut to `{}`",
        name.len(),
        &name[..cut]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_over_63_bytes_are_refused() {
        let ok = "a".repeat(63);
        assert!(exact_name(&ok, 1, 1).is_ok());
        let long = "é".repeat(32); // 64 bytes
        let e = exact_name(&format!("\"{long}\""), 1, 1).unwrap_err();
        assert!(e.0.contains("64 bytes"), "{e}");
        assert!(Pattern::parse(&format!("public.{}", "b".repeat(64))).is_err());
        assert!(Pattern::parse(&format!("public.{}*", "b".repeat(64))).is_ok());
    }

    fn pat(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn unquoted_folds_quoted_keeps_case_dots_and_spaces() {
        let p = pat(r#""Sales Dept"."Order""#);
        assert_eq!(p.schema.exact().unwrap(), "Sales Dept");
        assert_eq!(p.table.unwrap().exact().unwrap(), "Order");
        let p = pat("Public.Orders");
        assert_eq!(p.schema.exact().unwrap(), "public");
        assert_eq!(p.table.unwrap().exact().unwrap(), "orders");
        let p = pat(r#""a.b"."say ""hi""""#);
        assert_eq!(p.schema.exact().unwrap(), "a.b");
        assert_eq!(p.table.unwrap().exact().unwrap(), r#"say "hi""#);
    }

    #[test]
    fn globs_only_outside_quotes() {
        let p = pat("public.audit_*");
        let t = p.table.unwrap();
        assert!(t.is_glob());
        assert!(t.matches("audit_2024") && t.matches("audit_") && !t.matches("audits"));
        let q = pat(r#"public."audit_*""#).table.unwrap();
        assert!(!q.is_glob() && q.matches("audit_*") && !q.matches("audit_x"));
        let one = pat("s?").schema;
        assert!(one.matches("s1") && !one.matches("s") && !one.matches("s12"));
        let mixed = pat("*a*b").schema;
        assert!(mixed.matches("xaxxb") && mixed.matches("ab") && !mixed.matches("ba"));
        assert!(pat("*").schema.matches(""));
    }

    #[test]
    fn columns() {
        let p = pat(r#"public.customers(id, Name, "E Mail")"#);
        assert_eq!(p.columns.unwrap(), ["id", "name", "E Mail"]);
        assert_eq!(
            pat(r#"s.t("a,b")"#).columns.unwrap(),
            vec!["a,b".to_string()]
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for bad in [
            "", "a.", ".a", "a.b.c", r#""open"#, "a b", "s(c)", "s.t(", "s.t()", "s.t(a.b)",
            "s.t*(a)", "s.t(a) x", "s-t",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn exact_names() {
        assert_eq!(
            exact_name("public.Customers.email", 3, 3).unwrap(),
            ["public", "customers", "email"]
        );
        assert_eq!(exact_name(r#""Sales Dept""#, 1, 1).unwrap(), ["Sales Dept"]);
        assert!(exact_name("a.b", 3, 3).is_err());
        assert!(exact_name("a*", 1, 1).is_err());
        assert!(exact_name("a.b", 1, 1)
            .unwrap_err()
            .0
            .contains("expected schema"));
    }
}
