//! Rendering of results for people and scripts: tracing setup, summary tables,
//! plan text. The top of the engine: it reads results, computes nothing.

/// Sets up `tracing` on stderr. `RUST_LOG` wins over the flags.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let default = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn,pgferry=info",
            1 => "info,pgferry=debug",
            _ => "debug,pgferry=trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

mod schema;
mod summary;
pub use schema::schema_text;
pub use summary::{checksum_table, counts_table, migrate_table, plan_text};
