//! Thin entry point: parse arguments, set up logging, run, map errors to exit
//! codes. Under `--json` an error still prints its one JSON document (scripts
//! read stdout, not stderr); a closed stdout ends the command quietly.

use clap::Parser;
use pgferry::cli::Cli;
use pgferry::error::{
    document_printed, error_document, exit_for, is_stdout_closed, print_out, Exit,
};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_exit(e),
    };
    let (json, command) = (cli.json(), cli.command_name());
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
        // The reader of our output went away: nothing left to say to it.
        Err(err) if is_stdout_closed(&err) => Exit::Ok,
        Err(err) => {
            eprintln!("pgferry: error: {err:#}");
            let code = exit_for(&err);
            // A failed precheck already printed its document (with the error).
            if json && !document_printed(&err) {
                let doc = error_document(command, &err);
                let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                // Nothing more to do if stdout is gone too.
                let _ = print_out(&format!("{text}\n"));
            }
            code
        }
    };
    // Do not wait for background tasks (connection drivers) to wind down.
    runtime.shutdown_background();
    std::process::exit(code as i32);
}

/// Bad flags: clap's message on stderr and its exit code (2; 0 for `--help`
/// and `--version`), plus, under `--json`, the error document on stdout.
fn usage_exit(e: clap::Error) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if e.use_stderr() && args.iter().any(|a| a == "--json") {
        let command = args
            .iter()
            .find(|a| !a.starts_with('-'))
            .map_or("pgferry", String::as_str);
        let text = e.to_string();
        let message = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        let doc = serde_json::json!({
            "command": command, "ok": false, "exit_code": Exit::Usage as i32,
            "error": {"kind": "usage", "message": message, "end": null},
        });
        let _ = print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
    }
    e.exit()
}
