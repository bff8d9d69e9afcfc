//! Comparing two databases the way a DBA would: `pg_dump --schema-only` text,
//! with only the wording that a server version or a dump run changes normalised.

/// Removes what differs between two dumps of equal databases: the random
/// `\restrict` keys of pg_dump 17.6+/18, the `Dumped from database version`
/// header, blank and bare `--` separator lines, and wording that only the
/// server version changes: `EXECUTE PROCEDURE` (PostgreSQL 10's spelling of
/// `EXECUTE FUNCTION` in trigger definitions), the `default_table_access_method`
/// setting (12+ only), the note about the `public` schema pg_dump writes
/// for servers before 15, and column options a server keeps itself
/// (`pg_attver`).
pub fn normalize_dump(dump: &str) -> String {
    let mut out = Vec::new();
    for line in dump.lines() {
        if line.starts_with("\\restrict") || line.starts_with("\\unrestrict") {
            continue;
        }
        if line.starts_with("-- Dumped from database version")
            || line.starts_with("-- Dumped by pg_dump version")
        {
            continue;
        }
        if line.trim().is_empty()
            || line == "--"
            || line == "SET default_table_access_method = heap;"
            || line == "-- Name: public; Type: SCHEMA; Schema: -; Owner: -"
            || line == "-- *not* creating schema, since initdb creates it"
        {
            continue;
        }
        // Values a server keeps itself in attoptions (Debian's 15.20 writes
        // `pg_attver=<n>` on every column; each database has its own).
        let Some(line) = without_attver(line) else {
            continue;
        };
        out.push(line.replace("EXECUTE PROCEDURE", "EXECUTE FUNCTION"));
    }
    out.join("\n")
}

/// The line without `pg_attver=<n>` in a `SET (...)` list; `None` when
/// nothing else was set.
fn without_attver(line: &str) -> Option<String> {
    let Some(start) = line.find("pg_attver=") else {
        return Some(line.to_string());
    };
    let digits = line[start + "pg_attver=".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    let end = start + "pg_attver=".len() + digits;
    let mut out = format!("{}{}", &line[..start], &line[end..]);
    out = out.replace("(, ", "(").replace(", )", ")");
    if out.contains("SET ()") {
        return None;
    }
    Some(out)
}

/// Lines present in one normalised dump and not the other, as `-`/`+` lines.
pub fn dump_differences(source: &str, target: &str) -> Vec<String> {
    let a = normalize_dump(source);
    let b = normalize_dump(target);
    let mut count: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for l in a.lines() {
        *count.entry(l).or_default() += 1;
    }
    for l in b.lines() {
        *count.entry(l).or_default() -= 1;
    }
    let mut diffs: Vec<String> = Vec::new();
    for l in a.lines() {
        if let Some(c) = count.get_mut(l) {
            if *c > 0 {
                diffs.push(format!("- {l}"));
                *c -= 1;
            }
        }
    }
    for l in b.lines() {
        if let Some(c) = count.get_mut(l) {
            if *c < 0 {
                diffs.push(format!("+ {l}"));
                *c += 1;
            }
        }
    }
    // Same lines in a different order are a difference too.
    if diffs.is_empty() && a != b {
        diffs.push("(same lines, different order)".to_string());
    }
    diffs
}

/// Panics with the differing lines (and both dumps' line counts) unless the
/// normalised dumps are identical.
pub fn assert_same_schema(source_dump: &str, target_dump: &str, what: &str) {
    let diffs = dump_differences(source_dump, target_dump);
    assert!(
        diffs.is_empty(),
        "{what}: pg_dump --schema-only differs ({} lines; '-' source only, '+' target only):\n{}\n--- source dump ---\n{}\n",
        diffs.len(),
        diffs.join("\n"),
        normalize_dump(source_dump)
    );
}

/// Asserts two (possibly huge) query outputs are equal, showing only the first
/// differing line (cut to 300 characters) instead of both texts.
pub fn assert_same_text(source: &str, target: &str, what: &str) {
    if source == target {
        return;
    }
    let cut = |s: &str| s.chars().take(300).collect::<String>();
    let (mut a, mut b) = (source.lines(), target.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => panic!(
                "{what}: first difference at line {n}:\n source: {}\n target: {}",
                x.map_or("<end>".into(), cut),
                y.map_or("<end>".into(), cut)
            ),
        }
    }
}
