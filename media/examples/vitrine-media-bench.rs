//! vitrine-media-bench: how many consumers one mediasoup worker forwards.
//!
//! One worker (a pool of one), one synthetic publisher (VP8 at `--video-kbps` and Opus),
//! and a growing number of receivers: each is a plain transport on 127.0.0.1 consuming
//! the video (and, unless `--video-only`, the audio) producer, all sending to one UDP
//! sink socket that counts the RTP packets it gets. At each step the receivers are
//! added, the flow settles, then for `--hold` seconds the bench measures the worker
//! thread's CPU (utime + stime of its `/proc/self/task/<tid>/stat`: mediasoup 0.33's
//! workers are threads of this process, so there is no worker pid), the packets the
//! sink got per second against what it should get (the publisher's packet rate times
//! the receivers), and the loss. It prints a Markdown table and stops by itself.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use mediasoup::prelude::*;
use vitrine_media::synthetic::{SyntheticOptions, SyntheticPublisher};
use vitrine_media::{MediaPool, MediaSettings};

/// Time given to new receivers (keyframe, first packets) before a step is measured.
const SETTLE: Duration = Duration::from_secs(3);
/// Clock ticks per second of `/proc` CPU times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;
/// Receive buffer asked for the sink (the kernel caps it at net.core.rmem_max).
const SINK_BUFFER: usize = 4 << 20;

/// Consumers per mediasoup worker: steps up receivers of one synthetic publisher.
#[derive(Parser, Debug)]
#[command(name = "vitrine-media-bench")]
struct Args {
    /// Receivers at each step (cumulative), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,400,600,800")]
    steps: Vec<usize>,
    /// Seconds each step is measured, after a settle time of 3 s.
    #[arg(long, default_value_t = 10)]
    hold: u64,
    /// Target bitrate of the synthetic VP8 video, in kbit/s.
    #[arg(long, default_value_t = 500)]
    video_kbps: u32,
    /// Consume only the video producer (one consumer per receiver instead of two).
    #[arg(long)]
    video_only: bool,
}

/// What the sink socket has counted.
#[derive(Default)]
struct Sink {
    packets: AtomicU64,
    bytes: AtomicU64,
    stop: AtomicBool,
}

/// One measurement point.
struct Snapshot {
    at: Instant,
    cpu_ticks: u64,
    sink_packets: u64,
    sink_bytes: u64,
    published: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = MediaPool::new(MediaSettings {
        workers: 1,
        listen_ip: [127, 0, 0, 1].into(),
        ..MediaSettings::default()
    });
    let session = pool
        .open_session("bench")
        .await
        .context("failed to open a router")?;
    let router = session.router().clone();
    let step_time = SETTLE + Duration::from_secs(args.hold);
    let options = SyntheticOptions {
        duration: step_time * (args.steps.len() as u32 + 1) + Duration::from_secs(60),
        video_kbps: args.video_kbps,
        ..SyntheticOptions::default()
    };
    let mut publisher = SyntheticPublisher::start(&router, &options).await?;
    let producers: Vec<Producer> = if args.video_only {
        vec![publisher.video().clone()]
    } else {
        vec![publisher.video().clone(), publisher.audio().clone()]
    };

    let (sink, sink_addr) = start_sink()?;
    let caps: RtpCapabilities =
        serde_json::from_value(serde_json::to_value(router.rtp_capabilities())?)
            .context("failed to read the router's capabilities")?;
    let mut receivers: Vec<(PlainTransport, Vec<Consumer>)> = Vec::new();
    tokio::time::sleep(SETTLE).await;

    report_header(&args);
    for &target in &args.steps {
        while receivers.len() < target {
            receivers.push(add_receiver(&router, &producers, &caps, sink_addr).await?);
        }
        tokio::time::sleep(SETTLE).await;
        if !publisher.is_running().map_err(anyhow::Error::msg)? {
            bail!("the synthetic publisher stopped before the step of {target}");
        }
        let before = snapshot(&sink, &producers).await?;
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
        let after = snapshot(&sink, &producers).await?;
        report_row(target, producers.len(), &before, &after);
    }
    sink.stop.store(true, Ordering::Relaxed);
    Ok(())
}

/// The sink: a loopback UDP socket on a thread of its own, counting RTP (not RTCP).
fn start_sink() -> anyhow::Result<(Arc<Sink>, SocketAddr)> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_recv_buffer_size(SINK_BUFFER)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    let addr = socket.local_addr()?;
    let sink = Arc::new(Sink::default());
    let counts = Arc::clone(&sink);
    std::thread::Builder::new()
        .name("bench-sink".into())
        .spawn(move || {
            let mut buf = [0_u8; 2048];
            while !counts.stop.load(Ordering::Relaxed) {
                let Ok(n) = socket.recv(&mut buf) else {
                    continue;
                };
                // RTCP packet types are 192..=223 in the second byte (RFC 5761).
                if n >= 12 && !(192..=223).contains(&buf[1]) {
                    counts.packets.fetch_add(1, Ordering::Relaxed);
                    counts.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })?;
    Ok((sink, addr))
}

/// A plain transport sending to the sink, with a consumer of each producer.
async fn add_receiver(
    router: &Router,
    producers: &[Producer],
    caps: &RtpCapabilities,
    sink: SocketAddr,
) -> anyhow::Result<(PlainTransport, Vec<Consumer>)> {
    let transport = router
        .create_plain_transport(PlainTransportOptions::new(vitrine_media::udp_listen(
            sink.ip(),
        )))
        .await
        .context("failed to create a plain transport")?;
    transport
        .connect(PlainTransportRemoteParameters {
            ip: Some(sink.ip()),
            port: Some(sink.port()),
            rtcp_port: None,
            srtp_parameters: None,
        })
        .await
        .context("failed to connect a plain transport")?;
    let mut consumers = Vec::with_capacity(producers.len());
    for producer in producers {
        let consumer = transport
            .consume(ConsumerOptions::new(producer.id(), caps.clone()))
            .await
            .context("failed to consume")?;
        consumers.push(consumer);
    }
    Ok((transport, consumers))
}

async fn snapshot(sink: &Sink, producers: &[Producer]) -> anyhow::Result<Snapshot> {
    let mut published = 0;
    for producer in producers {
        for stat in producer.get_stats().await? {
            published += stat.packet_count;
        }
    }
    Ok(Snapshot {
        at: Instant::now(),
        cpu_ticks: worker_cpu_ticks()?,
        sink_packets: sink.packets.load(Ordering::Relaxed),
        sink_bytes: sink.bytes.load(Ordering::Relaxed),
        published,
    })
}

/// utime + stime of the worker's thread (named `mediasoup-worker-<id>`, which the
/// kernel cuts to 15 bytes).
fn worker_cpu_ticks() -> anyhow::Result<u64> {
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with("mediasoup-worke") {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat"))?;
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        let (Some(utime), Some(stime)) = (ticks(11), ticks(12)) else {
            bail!("unreadable {}", dir.join("stat").display());
        };
        *total.get_or_insert(0) += utime + stime;
    }
    total.context("no mediasoup worker thread in /proc/self/task")
}

#[allow(clippy::print_stdout)] // the report is this binary's output
fn report_header(args: &Args) {
    println!(
        "hold {} s per step after {} s settling; video {} kbit/s{}",
        args.hold,
        SETTLE.as_secs(),
        args.video_kbps,
        if args.video_only {
            ", video only"
        } else {
            " + Opus"
        }
    );
    println!();
    println!("| receivers | consumers | worker CPU % | published pkt/s | expected pkt/s | received pkt/s | Mbit/s out | loss % |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
}

#[allow(clippy::print_stdout)] // the report is this binary's output
fn report_row(receivers: usize, per_receiver: usize, before: &Snapshot, after: &Snapshot) {
    let seconds = after.at.duration_since(before.at).as_secs_f64();
    let cpu = (after.cpu_ticks - before.cpu_ticks) as f64 / TICKS_PER_SECOND / seconds * 100.0;
    let published = (after.published - before.published) as f64 / seconds;
    let expected = published * receivers as f64;
    let received = (after.sink_packets - before.sink_packets) as f64 / seconds;
    let mbits = (after.sink_bytes - before.sink_bytes) as f64 * 8.0 / seconds / 1e6;
    let loss = if expected > 0.0 {
        (1.0 - received / expected).max(0.0) * 100.0
    } else {
        0.0
    };
    println!(
        "| {receivers} | {} | {cpu:.1} | {published:.0} | {expected:.0} | {received:.0} | {mbits:.1} | {loss:.2} |",
        receivers * per_receiver
    );
}
