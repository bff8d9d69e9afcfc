//! What a new user meets first, through the real binary: the completions
//! and man pages that `scripts/install.sh` installs, grouped help, and the
//! demo's answer for a PostgreSQL major that is not installed.

use crate::support::{pgferry, pgferry_command};

fn stdout_of(args: &[&str]) -> String {
    let out = pgferry(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "pgferry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completions_for_each_shell_name_the_subcommands_and_options() {
    for shell in ["bash", "zsh", "fish"] {
        let text = stdout_of(&["completions", shell]);
        for word in [
            "precheck",
            "migrate",
            "verify",
            "status",
            "demo",
            "split-tables-larger-than",
        ] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let bad = pgferry(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_pages_are_written_one_per_subcommand() {
    let dir = tempfile::tempdir_in(crate::support::scratch_dir()).expect("tempdir");
    let listed = stdout_of(&["man", "--dir", &dir.path().display().to_string()]);
    for page in [
        "pgferry.1",
        "pgferry-precheck.1",
        "pgferry-migrate.1",
        "pgferry-verify.1",
        "pgferry-status.1",
        "pgferry-demo.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e} (listed: {listed})"));
        assert!(text.contains(".TH"), "{page} is not a man page");
    }
    let main = std::fs::read_to_string(dir.path().join("pgferry.1")).unwrap();
    for sub in ["precheck", "migrate", "verify", "status", "demo"] {
        assert!(main.contains(sub), "pgferry.1 lacks {sub}");
    }
    assert!(
        !dir.path().join("pgferry-completions.1").exists(),
        "hidden commands have no page"
    );
    let migrate = std::fs::read_to_string(dir.path().join("pgferry-migrate.1")).unwrap();
    assert!(migrate.contains("no\\-analyze"), "{migrate}");
}

#[test]
fn help_groups_options_with_the_shared_ones_last() {
    let text = stdout_of(&["migrate", "--help"]);
    let at = |h: &str| {
        text.find(h)
            .unwrap_or_else(|| panic!("{h} missing:\n{text}"))
    };
    assert!(at("Connections:") < at("Selection:"));
    assert!(at("Selection:") < at("Performance:"));
    assert!(at("Performance:") < at("Output:"));
    assert!(at("Output:") < at("Global options:"));
    assert!(at("Global options:") < at("--verbose"));
    let verify = stdout_of(&["verify", "--help"]);
    assert!(!verify.contains("Migrate only"), "{verify}");
    let status = stdout_of(&["status", "--help"]);
    assert_eq!(status.matches(".pgferry").count(), 1, "{status}");
}

#[test]
fn demo_with_a_major_not_installed_is_a_usage_error_with_the_way_to_install_it() {
    let out = pgferry_command(&["demo", "--source-major", "16"])
        .env("PGFERRY_PG_ROOT", "/nonexistent")
        .output()
        .expect("run pgferry");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PGFERRY_NPM_MAJORS=\"16\" scripts/install-postgres.sh"),
        "{err}"
    );
    let out = pgferry_command(&["demo", "--target-major", "42"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PGFERRY_PG42_BINDIR") && err.contains("10 to 18"),
        "{err}"
    );
}
