//! The libpq password file (`~/.pgpass` or `PGPASSFILE`): lets users keep
//! passwords out of command lines and task files, which is the safest place
//! for them when running pgferry from cron or CI.

use std::path::Path;

/// The target a password is looked up for.
pub(crate) struct Lookup<'a> {
    /// Host name, or the socket directory for a unix-socket connection.
    pub host: &'a str,
    pub port: u16,
    pub dbname: &'a str,
    pub user: &'a str,
}

/// Finds the password for `target` in the file at `path`, first match wins.
///
/// Like libpq, a file that group or others can read is ignored (with a
/// warning): a password file anyone can read is a leak the user should fix.
/// For unix sockets the host field may be `localhost` or the socket
/// directory (libpq only accepts `localhost` for its default directory; we
/// accept both because the socket directory varies between distributions).
pub(crate) fn lookup(path: &Path, target: &Lookup<'_>) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "password file {} has group or world access; permissions should be u=rw (0600) or less; ignoring it",
                path.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    find(&text, target)
}

/// The matching part of [`lookup`], on the file's text.
pub(crate) fn find(text: &str, t: &Lookup<'_>) -> Option<String> {
    let port = t.port.to_string();
    let socket = t.host.starts_with('/');
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(fields) = split_line(line) else {
            continue;
        };
        let host_ok = matches(&fields[0], t.host) || (socket && matches(&fields[0], "localhost"));
        if host_ok
            && matches(&fields[1], &port)
            && matches(&fields[2], t.dbname)
            && matches(&fields[3], t.user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn matches(field: &str, value: &str) -> bool {
    field == "*" || field == value
}

/// Splits `host:port:db:user:password` on unescaped colons, undoing `\:` and
/// `\\`. Lines with fewer than five fields are skipped, as libpq does.
fn split_line(line: &str) -> Option<[String; 5]> {
    let mut fields: Vec<String> = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut()?.push(n);
                }
            }
            ':' if fields.len() == 5 => break,
            ':' => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<'a>(host: &'a str, port: u16, db: &'a str, user: &'a str) -> Lookup<'a> {
        Lookup {
            host,
            port,
            dbname: db,
            user,
        }
    }

    #[test]
    fn first_match_wins_with_wildcards() {
        let text = "# comment\n\
                    db.example:5432:shop:app:first\n\
                    *:*:*:app:second\n\
                    *:*:*:*:third\n";
        assert_eq!(
            find(text, &t("db.example", 5432, "shop", "app")).as_deref(),
            Some("first")
        );
        assert_eq!(
            find(text, &t("other", 5432, "shop", "app")).as_deref(),
            Some("second")
        );
        assert_eq!(
            find(text, &t("other", 1, "x", "bob")).as_deref(),
            Some("third")
        );
    }

    #[test]
    fn no_match_and_short_lines() {
        let text = "h:5432:db:user\nh:5432:db:user:pw\n";
        assert_eq!(find(text, &t("h", 5433, "db", "user")), None);
        assert_eq!(
            find(text, &t("h", 5432, "db", "user")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn escapes_in_fields_and_password() {
        let text = r"h\:x:5432:d\\b:u:p\:w\\d:tail";
        assert_eq!(
            find(text, &t("h:x", 5432, r"d\b", "u")).as_deref(),
            Some(r"p:w\d")
        );
    }

    #[test]
    fn unix_socket_matches_localhost_or_dir() {
        let text = "localhost:5432:*:u:viasock\n";
        assert_eq!(
            find(text, &t("/tmp", 5432, "d", "u")).as_deref(),
            Some("viasock")
        );
        let text = "/run/pg:5432:*:u:bydir\n";
        assert_eq!(
            find(text, &t("/run/pg", 5432, "d", "u")).as_deref(),
            Some("bydir")
        );
        // A TCP host called "localhost" is not a socket directory.
        assert_eq!(find(text, &t("localhost", 5432, "d", "u")), None);
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_file_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&path, &t("h", 1, "d", "u")), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            lookup(&path, &t("h", 1, "d", "u")).as_deref(),
            Some("secret")
        );
    }
}
