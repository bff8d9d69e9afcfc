//! `pgferry demo`: throwaway source and target clusters, the Pagila sample
//! database, and the whole job (migrate, then verify), so a DBA can see what
//! pgferry does in a minute without touching a real server.

use crate::config::Endpoints;
use crate::error::Exit;
use crate::localpg::{ClusterOptions, LocalCluster};
use crate::pg::ConnSpec;
use anyhow::Context;
use clap::Args;
use std::time::Instant;

/// The sample database, compiled in so the demo needs no files.
const PAGILA_SCHEMA: &str = include_str!("../../corpora/pagila/pagila-schema.sql");
const PAGILA_SCHEMA_PG10: &str = include_str!("../../corpora/pagila/pagila-schema-pg10.sql");
const PAGILA_DATA: &str = include_str!("../../corpora/pagila/pagila-data.sql");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave both servers running at the end (prints how to connect and stop them).
    #[arg(long)]
    pub keep: bool,
    /// PostgreSQL major of the source (the founding case is 10).
    #[arg(long, default_value_t = 10)]
    pub source_major: u32,
    /// PostgreSQL major of the target.
    #[arg(long, default_value_t = 15)]
    pub target_major: u32,
    /// Parallel copy workers.
    #[arg(long, short = 'j', default_value_t = 2)]
    pub jobs: usize,
}

async fn start(major: u32, role: &str) -> anyhow::Result<LocalCluster> {
    let opts = ClusterOptions {
        major,
        ..ClusterOptions::default()
    };
    let c = tokio::task::spawn_blocking(move || LocalCluster::start(&opts))
        .await
        .context("cluster start task")?
        .with_context(|| format!("starting the {role} cluster (PostgreSQL {major})"))?;
    println!(
        "started {role}: PostgreSQL {major} on port {} (socket {})",
        c.port(),
        c.socket_dir().display()
    );
    Ok(c)
}

pub async fn run(args: DemoArgs, quiet: bool) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let source = start(args.source_major, "source").await?;
    let target = start(args.target_major, "target").await?;
    let schema = if args.source_major < 11 {
        PAGILA_SCHEMA_PG10
    } else {
        PAGILA_SCHEMA
    };
    println!("loading the Pagila sample database into the source ...");
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
    let ends = Endpoints {
        source: ConnSpec::parse(&source.socket_conninfo("pagila"))?,
        target: ConnSpec::parse(&target.socket_conninfo("pagila"))?,
    };
    println!(
        "\n$ pgferry migrate --source '{}' --target '{}'",
        ends.source, ends.target
    );
    let opts = crate::migrate::Options {
        jobs: args.jobs,
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
        map_removed_types: false,
        create_roles: false,
    };
    let report = crate::migrate::migrate(&ends, &opts).await?;
    print!("{}", crate::report::migrate_table(&report));
    println!(
        "\n$ pgferry verify --source '{}' --target '{}'",
        ends.source, ends.target
    );
    let sums = crate::verify::compare_checksums(
        &ends,
        &Default::default(),
        &crate::verify::ChecksumOptions {
            jobs: args.jobs,
            split_larger_than: crate::verify::DEFAULT_SPLIT_BYTES,
        },
    )
    .await?;
    print!("{}", crate::report::checksum_table(&sums));
    let equal = sums.iter().all(|c| c.equal);
    println!(
        "\ndemo finished in {:.1}s: {}",
        started.elapsed().as_secs_f64(),
        if equal {
            "every table has the same rows and checksum on both ends"
        } else {
            "SOME TABLES DIFFER"
        }
    );
    if args.keep {
        for (role, c) in [("source", source), ("target", target)] {
            let conninfo = c.socket_conninfo("pagila");
            let kept = c.keep();
            println!("{role} left running: psql \"{conninfo}\"");
            println!("  stop it with: {}", kept.stop_command);
        }
    } else {
        println!("stopping both servers (use --keep to leave them running)");
        drop(source);
        drop(target);
    }
    Ok(if equal { Exit::Ok } else { Exit::Problem })
}
