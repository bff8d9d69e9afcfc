//! Server errors rendered for people.

/// A server error as one line: its message (and detail), without the
/// "db error:" prefix tokio-postgres adds.
pub fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}
