//! wanproxy: a TCP proxy that makes a local PostgreSQL server look far away,
//! for `bench/run.sh --profile wan`.
//!
//! The seed's migrations read the source across the internet: tens of
//! milliseconds of round trip and a per-connection throughput limit (cloud
//! egress, TCP windows over a long path). On one machine every link is
//! instant and unlimited, so a tool that pays one round trip per table, or
//! keeps only one stream busy, looks as fast as one that does not. This proxy
//! sits between a client and the source server and adds, per direction:
//! half the round-trip time as a delay line, a bandwidth cap per connection
//! and a cap shared by all connections (token buckets, see [`shape`]).
//!
//! Defaults model a cross-cloud link: 40 ms RTT, 12 MB/s per connection,
//! 60 MB/s in total (MB = 10^6 bytes). Opening a connection costs one RTT
//! (the TCP handshake) before the upstream connect.
//!
//! Only tokio: the bench builds it on its own (its own workspace, not a
//! dependency of pgferry).

mod shape;

use shape::{schedule, DelayLine, TokenBucket};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Largest chunk read at once: at 12 MB/s, 32 KiB is 2.7 ms of link time,
/// fine enough for pacing, coarse enough to cost little CPU.
const CHUNK: usize = 32 * 1024;

#[derive(Debug, Clone)]
struct Config {
    listen: SocketAddr,
    upstream: String,
    rtt: Duration,
    /// Bytes per second per connection and direction (0: unlimited).
    conn_rate: u64,
    /// Bytes per second per direction, all connections (0: unlimited).
    total_rate: u64,
}

const USAGE: &str = "usage: wanproxy --listen ADDR:PORT --upstream HOST:PORT \
[--rtt-ms 40] [--conn-mb-s 12] [--total-mb-s 60]
  --rtt-ms N      round-trip time added (half each way), milliseconds
  --conn-mb-s X   bandwidth cap per connection and direction, MB/s (10^6 bytes; 0: none)
  --total-mb-s X  bandwidth cap per direction for all connections together, MB/s (0: none)";

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut listen = None;
    let mut upstream = None;
    let mut rtt_ms = 40.0f64;
    let mut conn_mb = 12.0f64;
    let mut total_mb = 60.0f64;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("{flag}: not a non-negative number: {value}"))
        };
        match flag.as_str() {
            "--listen" => {
                listen = Some(
                    value
                        .parse::<SocketAddr>()
                        .map_err(|e| format!("--listen {value}: {e}"))?,
                )
            }
            "--upstream" => upstream = Some(value.clone()),
            "--rtt-ms" => rtt_ms = num()?,
            "--conn-mb-s" => conn_mb = num()?,
            "--total-mb-s" => total_mb = num()?,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(Config {
        listen: listen.ok_or_else(|| format!("--listen is required\n{USAGE}"))?,
        upstream: upstream.ok_or_else(|| format!("--upstream is required\n{USAGE}"))?,
        rtt: Duration::from_secs_f64(rtt_ms / 1000.0),
        conn_rate: (conn_mb * 1e6) as u64,
        total_rate: (total_mb * 1e6) as u64,
    })
}

/// What every connection shares: the clock's origin and one bucket per
/// direction for the whole link.
struct Link {
    cfg: Config,
    start: Instant,
    /// Client to server, server to client.
    total: [Mutex<TokenBucket>; 2],
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    // One thread is plenty for 60 MB/s in 32 KiB chunks, and leaves the
    // bench machine's cores to the databases and the tools measured.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wanproxy: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(serve(cfg)) {
        eprintln!("wanproxy: {e}");
        std::process::exit(1);
    }
}

async fn serve(cfg: Config) -> std::io::Result<()> {
    let listener = TcpListener::bind(cfg.listen).await?;
    eprintln!(
        "wanproxy: {} -> {}, rtt {} ms, {} MB/s per connection, {} MB/s total",
        listener.local_addr()?,
        cfg.upstream,
        cfg.rtt.as_millis(),
        cfg.conn_rate as f64 / 1e6,
        cfg.total_rate as f64 / 1e6
    );
    let burst = TokenBucket::burst_for(cfg.total_rate);
    let link = Arc::new(Link {
        total: [
            Mutex::new(TokenBucket::new(cfg.total_rate, burst)),
            Mutex::new(TokenBucket::new(cfg.total_rate, burst)),
        ],
        cfg,
        start: Instant::now(),
    });
    loop {
        let (client, _) = listener.accept().await?;
        let link = Arc::clone(&link);
        tokio::spawn(async move {
            if let Err(e) = connection(client, &link).await {
                eprintln!("wanproxy: connection: {e}");
            }
        });
    }
}

async fn connection(client: TcpStream, link: &Arc<Link>) -> std::io::Result<()> {
    // The handshake of a far server: one round trip before anything flows.
    tokio::time::sleep(link.cfg.rtt).await;
    let server = TcpStream::connect(&link.cfg.upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = direction(cr, sw, Arc::clone(link), 0);
    let down = direction(sr, cw, Arc::clone(link), 1);
    let (a, b) = tokio::join!(up, down);
    a.and(b)
}

/// One direction of one connection: a reader that paces chunks through the
/// buckets and stamps them with their release time, and a writer that
/// releases them in order. The channel between them is the delay line; its
/// bound (with the pacing) caps the bytes in flight, so a slow receiver
/// pushes back on the sender as TCP would.
async fn direction(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    link: Arc<Link>,
    dir: usize,
) -> std::io::Result<()> {
    let cfg = &link.cfg;
    // In flight: a rate x one-way delay product of chunks, with room to spare.
    let bdp = (cfg.conn_rate.max(cfg.total_rate) as f64 * cfg.rtt.as_secs_f64()) as usize;
    let slots = (4 * bdp / CHUNK).clamp(64, 4096);
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(slots);
    let writer = async move {
        while let Some((at, chunk)) = rx.recv().await {
            // A timer rounds up to the next millisecond tick: skip it for
            // chunks already due, or a busy stream would move one chunk a tick.
            if at > Instant::now() {
                tokio::time::sleep_until(at).await;
            }
            if chunk.is_empty() {
                // End of stream, delayed like the data before it.
                return to.shutdown().await;
            }
            to.write_all(&chunk).await?;
        }
        Ok(())
    };
    let link2 = Arc::clone(&link);
    let reader = async move {
        let link = link2;
        let mut conn = TokenBucket::new(
            link.cfg.conn_rate,
            TokenBucket::burst_for(link.cfg.conn_rate),
        );
        let mut line = DelayLine::new(link.cfg.rtt / 2);
        loop {
            let mut buf = vec![0u8; CHUNK];
            // A reset from one side ends this direction like an EOF.
            let n: usize = from.read(&mut buf).await.unwrap_or_default();
            buf.truncate(n);
            let now = link.start.elapsed();
            let (sent, release) = {
                let mut total = match link.total[dir].lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                schedule(now, n as u64, &mut conn, &mut total, &mut line)
            };
            // Pacing: the bytes are on the wire only from `sent`; reading no
            // more until then is what slows the sender down.
            let sent = link.start + sent;
            if sent > Instant::now() {
                tokio::time::sleep_until(sent).await;
            }
            if tx.send((link.start + release, buf)).await.is_err() || n == 0 {
                return;
            }
        }
    };
    let (_, w) = tokio::join!(reader, writer);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_model_a_cross_cloud_link() {
        let c = parse_args(&args("--listen 127.0.0.1:0 --upstream 127.0.0.1:5432")).unwrap();
        assert_eq!(c.rtt, Duration::from_millis(40));
        assert_eq!(c.conn_rate, 12_000_000);
        assert_eq!(c.total_rate, 60_000_000);
    }

    #[test]
    fn flags_override_and_bad_values_are_refused() {
        let c = parse_args(&args(
            "--listen 127.0.0.1:0 --upstream h:1 --rtt-ms 100 --conn-mb-s 0.5 --total-mb-s 0",
        ))
        .unwrap();
        assert_eq!(c.rtt, Duration::from_millis(100));
        assert_eq!(c.conn_rate, 500_000);
        assert_eq!(c.total_rate, 0);
        assert!(parse_args(&args("--listen 127.0.0.1:0 --upstream h:1 --rtt-ms -1")).is_err());
        assert!(parse_args(&args("--listen nowhere --upstream h:1")).is_err());
        assert!(parse_args(&args("--upstream h:1")).is_err());
        assert!(parse_args(&args("--listen 127.0.0.1:0 --upstream h:1 --bogus 1")).is_err());
    }
}
