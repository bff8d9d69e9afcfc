//! Thin entry point: parse arguments, set up logging, run, map errors to exit codes.

use clap::Parser;
use pgferry::cli::Cli;
use pgferry::error::{exit_for, Exit};

fn main() {
    let cli = Cli::parse();
    let (verbose, quiet) = cli.log_settings();
    pgferry::report::init_tracing(verbose, quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pgferry: cannot start the async runtime: {e}");
            std::process::exit(Exit::Failed as i32);
        }
    };
    let code = match runtime.block_on(pgferry::cli::run(cli)) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("pgferry: error: {err:#}");
            exit_for(&err)
        }
    };
    // Do not wait for background tasks (connection drivers) to wind down.
    runtime.shutdown_background();
    std::process::exit(code as i32);
}
