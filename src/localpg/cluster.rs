//! One throwaway cluster: initdb, start, connect strings, psql, stop.

use super::bins::{find_bindir, find_client_tool};
use super::proc::{chown_to, run_checked, scrub_env, server_command, server_user, ServerUser};
use super::util::{conninfo_value, free_port, make_tmp_dir, random_password, tail};
use super::{tlscert, watchdog};
use crate::pg::ident::quote_ident;
use anyhow::{bail, Context};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What kind of cluster to start.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// PostgreSQL major version (10, 15, 17, ...).
    pub major: u32,
    /// `ssl=on` with a generated self-signed CA and a server certificate for
    /// CN/SAN `localhost` and `127.0.0.1`; see [`LocalCluster::ca_cert_path`].
    pub tls: bool,
    /// Extra `postgresql.conf` settings, written after ours so they win.
    /// Values are written verbatim: quote strings yourself (`"'on'"`).
    pub extra_conf: Vec<(String, String)>,
    /// Server binaries to use instead of the major's usual ones (a vendor
    /// build, say Debian's `/usr/lib/postgresql/15/bin`).
    pub bindir: Option<PathBuf>,
}

/// A running cluster in a private temp directory, stopped and removed on
/// [`LocalCluster::stop`], on drop, or by a watchdog once this process exits.
#[derive(Debug)]
pub struct LocalCluster {
    major: u32,
    port: u16,
    bindir: PathBuf,
    tmp_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    password: String,
    ca_cert: Option<PathBuf>,
    user: Option<ServerUser>,
    watchdog: Option<Child>,
    done: bool,
}

/// A cluster left running by [`LocalCluster::keep`] (for `pgferry demo --keep`).
#[derive(Debug, Clone)]
pub struct KeptCluster {
    pub major: u32,
    pub port: u16,
    pub data_dir: PathBuf,
    /// Temp directory holding the data dir, socket, log and certificates.
    pub dir: PathBuf,
    /// TCP URI of the `postgres` database, password included.
    pub uri: String,
    /// Shell command that stops the server and removes `dir`.
    pub stop_command: String,
}

const SUPERUSER: &str = "postgres";
const START_ATTEMPTS: u32 = 5;

impl LocalCluster {
    /// initdb + pg_ctl start in a fresh temp dir, on a free 127.0.0.1 port,
    /// socket inside the temp dir. Blocks until the server accepts queries.
    pub fn start(opts: &ClusterOptions) -> anyhow::Result<LocalCluster> {
        let bindir = match &opts.bindir {
            Some(dir) => dir.clone(),
            None => find_bindir(opts.major)?,
        };
        let user = server_user()?;
        let tmp_dir = make_tmp_dir()?;
        // From here on, Drop (and the watchdog) clean up after any error.
        let mut c = LocalCluster {
            major: opts.major,
            port: 0,
            bindir,
            data_dir: tmp_dir.join("data"),
            socket_dir: tmp_dir.join("s"),
            tmp_dir,
            password: random_password()?,
            ca_cert: None,
            user,
            watchdog: None,
            done: false,
        };
        c.watchdog = Some(watchdog::spawn(&c.data_dir, &c.tmp_dir)?);
        c.init(opts)
            .with_context(|| format!("starting a PostgreSQL {} cluster", opts.major))?;
        Ok(c)
    }

    fn init(&mut self, opts: &ClusterOptions) -> anyhow::Result<()> {
        let user = self.user.clone();
        let user = user.as_ref();
        std::fs::set_permissions(&self.tmp_dir, std::fs::Permissions::from_mode(0o755))?;
        chown_to(&self.tmp_dir, user)?;
        std::fs::create_dir(&self.socket_dir)?;
        chown_to(&self.socket_dir, user)?;
        let pwfile = self.tmp_dir.join("pw");
        std::fs::write(&pwfile, format!("{}\n", self.password))?;
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))?;
        chown_to(&pwfile, user)?;

        let mut initdb = server_command(&self.bindir.join("initdb"), user, &self.tmp_dir);
        initdb
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-U", SUPERUSER, "--auth-local=trust", "--auth-host=md5"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["-E", "UTF8", "--locale=C", "--no-sync"]);
        run_checked(&mut initdb, "initdb")?;
        let _ = std::fs::remove_file(&pwfile);

        let mut base = vec![
            ("listen_addresses", "'127.0.0.1'".to_string()),
            (
                "unix_socket_directories",
                format!("'{}'", self.socket_dir.display()),
            ),
            ("fsync", "off".into()),
            ("synchronous_commit", "off".into()),
            ("full_page_writes", "off".into()),
            ("shared_buffers", "128MB".into()),
            ("max_connections", "100".into()),
            ("wal_level", "logical".into()),
            ("max_replication_slots", "10".into()),
            ("max_wal_senders", "10".into()),
        ];
        if opts.tls {
            let files = tlscert::generate(&self.tmp_dir.join("tls"), user)?;
            base.push(("ssl", "on".into()));
            base.push((
                "ssl_cert_file",
                format!("'{}'", files.server_cert.display()),
            ));
            base.push(("ssl_key_file", format!("'{}'", files.server_key.display())));
            self.ca_cert = Some(files.ca_cert);
        }
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.conf"))?;
        writeln!(conf, "\n# added by pgferry localpg\ninclude 'pgferry.conf'")?;

        let mut last_err = None;
        for _ in 0..START_ATTEMPTS {
            self.port = free_port()?;
            let mut text = format!("port = {}\n", self.port);
            for (k, v) in &base {
                text.push_str(&format!("{k} = {v}\n"));
            }
            for (k, v) in &opts.extra_conf {
                text.push_str(&format!("{k} = {v}\n"));
            }
            let path = self.data_dir.join("pgferry.conf");
            std::fs::write(&path, text)?;
            chown_to(&path, user)?;
            match self.pg_ctl_start() {
                Ok(()) => return self.wait_ready(),
                Err(e) => {
                    let log = tail(&self.log_path(), 30);
                    if log.contains("could not bind") || log.contains("already in use") {
                        last_err = Some(e);
                        continue;
                    }
                    bail!("{e:#}\nserver log ({}):\n{log}", self.log_path().display());
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("no free port")))
            .context("gave up after repeated port clashes")
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let mut cmd = server_command(
            &self.bindir.join("pg_ctl"),
            self.user.as_ref(),
            &self.tmp_dir,
        );
        cmd.arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(self.log_path())
            .args(["-w", "-t", "60", "start"])
            // pg_ctl's forked postmaster inherits these; a caller capturing
            // our output must not wait on the server's copies of the pipes.
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        run_checked(&mut cmd, "pg_ctl start").map(|_| ())
    }

    /// pg_ctl -w already waited; this proves that queries work over the
    /// socket with the client we will use, and shows the log if not.
    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.psql("postgres", "SELECT 1") {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    bail!(
                        "server started but does not answer: {e:#}\nserver log:\n{}",
                        tail(&self.log_path(), 30)
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    pub fn major(&self) -> u32 {
        self.major
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
    /// The data directory (owned by the server user when we are root).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// The server log that pg_ctl writes.
    pub fn log_path(&self) -> PathBuf {
        self.tmp_dir.join("server.log")
    }
    /// Always `postgres`.
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }
    /// Random per cluster; TCP connections need it (md5 auth).
    pub fn password(&self) -> &str {
        &self.password
    }
    /// `postgres://postgres:<pw>@127.0.0.1:<port>/<db>` (TCP, password auth).
    pub fn uri(&self, db: &str) -> String {
        let db = percent_encoding::utf8_percent_encode(db, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }
    /// `host=<socket_dir> port=<port> user=postgres dbname=<db>` (unix socket, trust).
    pub fn socket_conninfo(&self, db: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} dbname={}",
            conninfo_value(&self.socket_dir.to_string_lossy()),
            self.port,
            conninfo_value(db)
        )
    }
    /// The CA that signed the server certificate, when started with `tls`.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    fn psql_command(&self, db: &str) -> anyhow::Result<Command> {
        let psql = find_client_tool("psql", Some(self.major))?;
        let mut cmd = Command::new(psql);
        scrub_env(&mut cmd);
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.socket_conninfo(db));
        Ok(cmd)
    }

    /// Runs `sql` as a script (statements one by one, so CREATE DATABASE and
    /// friends work) with psql over the socket: `-X -q -A -t` and
    /// ON_ERROR_STOP=1. Returns stdout: unaligned, tuples only, `|`-separated.
    /// psql comes from this cluster's bindir, else the newest installed.
    pub fn psql(&self, db: &str, sql: &str) -> anyhow::Result<String> {
        let mut cmd = self.psql_command(db)?;
        cmd.args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("cannot run psql")?;
        let mut stdin = child.stdin.take().context("psql stdin")?;
        let sql_owned = sql.to_string();
        // A writer thread: a big script and big output must not deadlock.
        let writer = std::thread::spawn(move || stdin.write_all(sql_owned.as_bytes()));
        let out = child.wait_with_output().context("waiting for psql")?;
        let _ = writer.join();
        if !out.status.success() {
            bail!(
                "psql on {} failed ({}): {}",
                self.socket_conninfo(db),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs an SQL file with psql (same settings as [`LocalCluster::psql`]).
    pub fn psql_file(&self, db: &str, path: &Path) -> anyhow::Result<()> {
        let mut cmd = self.psql_command(db)?;
        cmd.arg("-f").arg(path).stdin(Stdio::null());
        run_checked(&mut cmd, &format!("psql -f {}", path.display())).map(|_| ())
    }

    /// `CREATE DATABASE <name>` (quoted as needed).
    pub fn create_database(&self, name: &str) -> anyhow::Result<()> {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {};", quote_ident(name)),
        )
        .map(|_| ())
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every session is cut,
    /// as in a failover or a crash-restart (for the fault-injection tests).
    pub fn restart(&self) -> anyhow::Result<()> {
        run_checked(&mut self.pg_ctl_stop("fast"), "pg_ctl stop")?;
        self.pg_ctl_start()?;
        self.wait_ready()
    }

    /// Stops the server the way a crash would (`pg_ctl stop -m immediate`):
    /// every session cut, no checkpoint, commits not yet flushed lost, WAL
    /// replayed at the next start. Start it again with
    /// [`LocalCluster::start_again`] (for the fault tests).
    pub fn crash(&self) -> anyhow::Result<()> {
        run_checked(
            &mut self.pg_ctl_stop("immediate"),
            "pg_ctl stop -m immediate",
        )
        .map(|_| ())
    }

    /// Starts the server again after [`LocalCluster::crash`], on the same
    /// port, and waits until it answers queries.
    pub fn start_again(&self) -> anyhow::Result<()> {
        self.pg_ctl_start()?;
        self.wait_ready()
    }

    /// `pg_ctl stop -m <mode>`, waiting up to 30 s, as the server's user.
    fn pg_ctl_stop(&self, mode: &str) -> Command {
        let mut cmd = server_command(
            &self.bindir.join("pg_ctl"),
            self.user.as_ref(),
            &self.tmp_dir,
        );
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-w", "-t", "30", "-m", mode, "stop"]);
        cmd
    }

    /// Stops the server (`pg_ctl stop -m fast`) and removes the temp dir.
    /// Idempotent. Falls back to SIGQUIT when pg_ctl fails.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let mut result = Ok(());
        if self.data_dir.join("postmaster.pid").exists() {
            if let Err(e) = run_checked(&mut self.pg_ctl_stop("fast"), "pg_ctl stop") {
                self.kill_postmaster();
                result = Err(e);
            }
        }
        if let Some(mut w) = self.watchdog.take() {
            watchdog::disarm(&mut w);
        }
        if let Err(e) = std::fs::remove_dir_all(&self.tmp_dir) {
            if result.is_ok() && self.tmp_dir.exists() {
                result = Err(e).with_context(|| format!("remove {}", self.tmp_dir.display()));
            }
        }
        result
    }

    fn kill_postmaster(&self) {
        let pid = std::fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()));
        if let Some(pid) = pid.filter(|p| *p > 1) {
            // SAFETY: plain syscall; SIGQUIT asks postmaster for immediate shutdown.
            unsafe {
                libc::kill(pid, libc::SIGQUIT);
            }
        }
    }

    /// Leaves the server running (for `pgferry demo --keep`): disarms the
    /// watchdog and Drop, and returns how to reach and stop it.
    pub fn keep(mut self) -> KeptCluster {
        if let Some(mut w) = self.watchdog.take() {
            watchdog::disarm(&mut w);
        }
        self.done = true;
        let pg_ctl = format!(
            "{} -D {} stop -m fast",
            watchdog::sh_quote(&self.bindir.join("pg_ctl").to_string_lossy()),
            watchdog::sh_quote(&self.data_dir.to_string_lossy())
        );
        let pg_ctl = match &self.user {
            Some(u) => format!("runuser -u {} -- {pg_ctl}", u.name),
            None => pg_ctl,
        };
        KeptCluster {
            major: self.major,
            port: self.port,
            data_dir: self.data_dir.clone(),
            dir: self.tmp_dir.clone(),
            uri: self.uri("postgres"),
            stop_command: format!(
                "{pg_ctl} && rm -rf {}",
                watchdog::sh_quote(&self.tmp_dir.to_string_lossy())
            ),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
