//! A source running a vendor's build of PostgreSQL (here Debian's
//! postgresql-15 package, which the install script puts on every test
//! machine) migrated to an upstream server. Debian's 15.20 security update
//! gives every new column an attribute option (`pg_attver`) that upstream
//! servers reject: pgferry must carry what PostgreSQL defines, name the rest,
//! and still migrate every table.

use crate::support::{assert_verified_equal, cluster, pgferry, Migrate};
use pgferry::localpg::{ClusterOptions, LocalCluster};
use std::path::PathBuf;

const DEBIAN_15: &str = "/usr/lib/postgresql/15/bin";

#[test]
fn a_debian_15_source_migrates_to_upstream_17() {
    assert!(
        PathBuf::from(DEBIAN_15).join("postgres").exists(),
        "scripts/install-postgres.sh installs Debian's postgresql-15"
    );
    let src = LocalCluster::start(&ClusterOptions {
        major: 15,
        bindir: Some(PathBuf::from(DEBIAN_15)),
        ..Default::default()
    })
    .expect("start Debian's PostgreSQL 15");
    let dst = cluster(17);
    let sdb = "vendor";
    src.psql("postgres", &format!("CREATE DATABASE {sdb};"))
        .unwrap();
    let tdb = crate::support::fresh_db(dst, "vendor");
    src.psql(
        sdb,
        "CREATE TABLE public.t (id int PRIMARY KEY, v text, n numeric);
         ALTER TABLE public.t ALTER COLUMN v SET (n_distinct = -0.5);
         INSERT INTO public.t SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 500) g;",
    )
    .unwrap();
    let vendor_options = src
        .psql(
            sdb,
            "SELECT count(*) FROM pg_attribute
             WHERE attrelid = 'public.t'::regclass AND attnum > 0
               AND EXISTS (SELECT 1 FROM unnest(attoptions) o
                           WHERE split_part(o, '=', 1) NOT IN ('n_distinct', 'n_distinct_inherited'))",
        )
        .unwrap();
    let vendor_options = vendor_options.trim() != "0";

    let (s, d) = (src.uri(sdb), dst.uri(&tdb));
    let out = pgferry(&["precheck", "--json", "--source", &s, "--target", &d]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "source.unsupported.column_option")
        .cloned()
        .unwrap_or_default();
    if vendor_options {
        assert_eq!(finding["severity"], "warning", "{doc:#}");
        assert!(
            finding["message"].as_str().unwrap().contains("public.t"),
            "{finding}"
        );
    } else {
        eprintln!("note: this Debian build sets no vendor column option");
        assert_eq!(finding["severity"], "pass", "{doc:#}");
    }

    Migrate::new(&src, sdb, dst, &tdb).ok();
    assert_verified_equal(&s, &d);
    // The option PostgreSQL defines arrived; no other did.
    let opts = dst
        .psql(
            &tdb,
            "SELECT attname || ':' || array_to_string(attoptions, ',') FROM pg_attribute
             WHERE attrelid = 'public.t'::regclass AND attoptions IS NOT NULL",
        )
        .unwrap();
    assert_eq!(opts.trim(), "v:n_distinct=-0.5", "{opts}");
}
