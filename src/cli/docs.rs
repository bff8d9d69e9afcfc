//! `pgferry completions SHELL` and `pgferry man`: shell completions and man
//! pages generated from the clap definition of this very binary, so they can
//! never disagree with it. Both subcommands are hidden: `scripts/install.sh`
//! runs them right after `cargo install` (a build script could not, since the
//! definition lives in this crate, and would slow every build for a file
//! almost nobody reads from `target/`).

use super::Cli;
use crate::error::{usage, Exit};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write pgferry.1 and one page per subcommand (pgferry-migrate.1 ...)
    /// into DIR; without it, print pgferry.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script of `shell` on stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "pgferry", &mut out);
    std::io::stdout().write_all(&out)?;
    Ok(Exit::Ok)
}

/// Prints the main man page, or writes every page into `--dir`.
pub fn man(args: ManArgs) -> anyhow::Result<Exit> {
    let cmd = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| usage(format!("cannot create {}: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, &dir)
                .map_err(|e| anyhow::anyhow!("writing man pages into {}: {e}", dir.display()))?;
            let mut pages: Vec<String> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("pgferry") && n.ends_with(".1"))
                .collect();
            pages.sort();
            println!("{}: {}", dir.display(), pages.join(" "));
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            std::io::stdout().write_all(&out)?;
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_every_visible_subcommand() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pgferry", &mut out);
            let text = String::from_utf8_lossy(&out);
            for sub in ["precheck", "migrate", "verify", "status", "demo"] {
                assert!(text.contains(sub), "{shell}: {sub} missing");
            }
            assert!(text.contains("split-tables-larger-than"), "{shell}");
        }
    }

    #[test]
    fn man_page_lists_subcommands() {
        let mut out = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut out)
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(".ie") || text.contains(".TH pgferry"),
            "{text}"
        );
        for sub in ["precheck", "migrate", "verify", "status", "demo"] {
            assert!(text.contains(sub), "{sub} missing from the man page");
        }
        assert!(
            !text.contains("completions"),
            "hidden subcommands stay hidden"
        );
    }

    /// The README's usage block and precheck table are what a user reads
    /// first: every option of every command, and every precheck code.
    #[test]
    fn readme_names_every_option_and_precheck_code() {
        let readme = include_str!("../../README.md");
        let usage = readme
            .split("## Using it")
            .nth(1)
            .and_then(|s| s.split("```").nth(1))
            .expect("README has a usage block under ## Using it");
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    assert!(
                        usage.contains(&format!("--{long}")),
                        "README usage lacks {} --{long}",
                        sub.get_name()
                    );
                }
            }
        }
        for code in crate::precheck::CODES {
            assert!(
                readme.contains(&format!("| `{code}`")) || readme.contains(&format!(", `{code}`")),
                "README precheck table lacks {code}"
            );
        }
    }
}
