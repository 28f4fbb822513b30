//! The Markdown summary of a report, parameters first.

use std::fmt::Write;

use serde_json::Value;

use super::*;

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn pct_row(p: &Percentiles) -> String {
    format!(
        "{} | {} | {} | {} | {}",
        ms(p.p50),
        ms(p.p95),
        ms(p.p99),
        ms(p.p999),
        ms(p.max)
    )
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Renders the summary; `previous` is an earlier JSON report to compare with.
pub fn render(r: &Report, previous: Option<&Value>) -> String {
    let mut out = String::new();
    let p = &r.plan;
    let run = &r.run;
    let _ = writeln!(
        out,
        "# {} against {}: {}{} sessions × {} ({} connections)\n",
        run.scenario,
        run.kind,
        if p.ramp.is_some() { "up to " } else { "" },
        thousands(p.final_sessions() as u64),
        p.participants,
        thousands(p.connections() as u64)
    );

    out.push_str("| parameter | value |\n|---|---|\n");
    let traffic = &p.traffic;
    let iv = |i: &Option<std::time::Duration>| {
        i.map_or("off".to_string(), |d| {
            humantime::format_duration(d).to_string()
        })
    };
    let rows: Vec<(&str, String)> = vec![
        ("scenario", run.scenario.clone()),
        (
            "server",
            format!(
                "{} ({} node{})",
                run.kind,
                run.nodes,
                if run.nodes == 1 { "" } else { "s" }
            ),
        ),
        ("targets", run.targets.join(", ")),
        ("commit", run.commit.clone()),
        ("date", run.date.clone()),
        (
            "machine",
            format!(
                "{}, {} cores, {} GiB, Linux {}; load generator on {} core(s), {} thread(s)",
                run.machine.cpu,
                run.machine.cores,
                run.machine.memory_gib,
                run.machine.kernel,
                run.machine.loadgen_cores,
                run.loadgen_threads
            ),
        ),
        (
            "load average",
            format!(
                "{:.2} at the start, {:.2} at the end (other work on the machine)",
                run.load_average[0], run.load_average[1]
            ),
        ),
        ("label", p.label.clone().unwrap_or_else(|| "—".into())),
        (
            "sessions × participants",
            format!(
                "{} × {} (1 shopper, {} customers)",
                p.final_sessions(),
                p.participants,
                p.participants - 1
            ),
        ),
        (
            "connect window",
            humantime::format_duration(p.within).to_string(),
        ),
        (
            "traffic",
            humantime::format_duration(p.duration).to_string(),
        ),
        ("card interval", iv(&traffic.card_interval)),
        ("shopper chat interval", iv(&traffic.shopper_chat_interval)),
        ("customer chat interval", iv(&traffic.chat_interval)),
        ("cart interval", iv(&traffic.cart_interval)),
        ("customer mix", traffic.customer_mix.to_string()),
        (
            "checkout sessions",
            format!("{}%", (traffic.checkout_fraction * 100.0).round()),
        ),
        ("coordinated omission", run.coordinated_omission.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    if let Some(s) = &p.storm {
        let _ = writeln!(
            out,
            "| storm | drop {:.0}% at {} into the traffic; resume deadline {} |",
            s.fraction * 100.0,
            humantime::format_duration(s.at),
            humantime::format_duration(s.resume_deadline)
        );
    }
    if let Some(rp) = &p.ramp {
        let _ = writeln!(
            out,
            "| ramp | from {} sessions by {} up to {}, {} per step; good while fan-out p99 ≤ {} ms, \
             no loss, failed commands ≤ {:.2}% |",
            p.sessions,
            rp.step_sessions,
            rp.max_sessions,
            humantime::format_duration(rp.step_duration),
            rp.max_p99.as_millis(),
            rp.max_error_rate * 100.0
        );
    }

    verdict(&mut out, r);
    delivery(&mut out, r);
    latencies(&mut out, r);
    if let Some(s) = &r.storm {
        let _ = writeln!(
            out,
            "\n## Reconnect storm\n\n{} connections dropped at once; {} resumed and caught up{}; \
             {} unanswered commands re-sent with their original ids.",
            s.outcome.dropped,
            s.outcome.resumed,
            s.outcome
                .all_back_ms
                .map(|t| format!(" (all back {} ms after the drop)", ms(t)))
                .unwrap_or_default(),
            s.commands_resent
        );
    }
    if let Some(ramp) = &r.ramp {
        ramp_table(&mut out, ramp);
    }
    errors(&mut out, r);
    resources(&mut out, r);
    if let Some(prev) = previous {
        compare(&mut out, r, prev);
    }
    out
}

fn verdict(out: &mut String, r: &Report) {
    let c = &r.connections;
    let t = &r.delivery.total;
    let _ = writeln!(out, "\n## Verdict\n");
    let _ = writeln!(
        out,
        "- {}: {} of {} expected deliveries arrived; {} missing, {} duplicated, {} reordered, {} unexpected.",
        if r.verdict.exact { "**exact**" } else { "**not exact**" },
        thousands(t.delivered),
        thousands(t.expected),
        t.missing,
        t.duplicates,
        t.reordered,
        t.unexpected
    );
    let _ = writeln!(
        out,
        "- {} of {} participants joined; {} of {} sessions started; counts {}.",
        c.joined,
        c.planned,
        c.sessions_started,
        c.sessions,
        if r.verdict.consistent {
            "add up"
        } else {
            "do NOT add up"
        }
    );
    let _ = writeln!(
        out,
        "- Drained before the timeout: {}. Session logs read back: {}{}.",
        if r.run.drained { "yes" } else { "no" },
        if r.run.logs_checked {
            "yes"
        } else {
            "no (the peers keep none)"
        },
        if r.run.logs_checked {
            format!(
                ", {} events found there that no participant received",
                r.run.events_only_in_logs
            )
        } else {
            String::new()
        }
    );
    for problem in &r.verdict.problems {
        let _ = writeln!(out, "- Problem: {problem}");
    }
}

fn delivery(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "\n## Deliveries (exact, every participant × every event)\n\n\
         | event kind | expected | delivered | missing | duplicates |\n|---|---|---|---|---|"
    );
    for k in &r.delivery.by_kind {
        let t = &k.tally;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            k.kind,
            thousands(t.expected),
            thousands(t.delivered),
            t.missing,
            t.duplicates
        );
    }
    let t = &r.delivery.total;
    let _ = writeln!(
        out,
        "| **all** | **{}** | **{}** | **{}** | **{}** |",
        thousands(t.expected),
        thousands(t.delivered),
        t.missing,
        t.duplicates
    );
}

fn latencies(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "\n## Fan-out latency (send → each other participant's receipt), ms\n\n\
         | event kind | deliveries | p50 | p95 | p99 | p99.9 | max | p99 uncorrected |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for row in &r.fanout {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            row.kind,
            thousands(row.latency.count),
            pct_row(&row.latency),
            ms(row.uncorrected.p99)
        );
    }
    if let Some(c) = &r.catchup {
        let _ = writeln!(
            out,
            "| caught up after resume | {} | {} | — |",
            thousands(c.count),
            pct_row(c)
        );
    }
    let _ = writeln!(
        out,
        "\n## Transactions, ms\n\n\
         | transaction | count | failures | p50 | p95 | p99 | p99.9 | max |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for t in &r.transactions {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.name,
            thousands(t.count),
            t.failures,
            pct_row(&t.latency)
        );
    }
}

fn ramp_table(out: &mut String, ramp: &RampReport) {
    let _ = writeln!(
        out,
        "\n## Ramp\n\n| sessions | connections | fan-out p50 | p99 | max | missing | failed commands | server CPU | server RSS MiB | good |\n\
         |---|---|---|---|---|---|---|---|---|---|"
    );
    for s in &ramp.steps {
        let (cpu, rss) = s.server.as_ref().map_or(("—".into(), "—".into()), |u| {
            (
                format!("{:.0}%", u.cpu_avg_percent),
                format!("{:.0}", u.rss_end_kib as f64 / 1024.0),
            )
        });
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} / {} | {cpu} | {rss} | {} |",
            s.sessions,
            s.connections,
            ms(s.fanout.p50),
            ms(s.fanout.p99),
            ms(s.fanout.max),
            s.missing,
            s.failed_commands,
            s.commands,
            if s.good {
                "yes".to_string()
            } else {
                format!("no: {}", s.broken.join("; "))
            }
        );
    }
    let last = ramp
        .last_good
        .map(|i| {
            let s = &ramp.steps[i];
            format!("{} sessions, {} connections", s.sessions, s.connections)
        })
        .unwrap_or_else(|| "none".into());
    let _ = writeln!(
        out,
        "\nLast good step: **{last}**. Stopped because {}.",
        ramp.stopped_because
    );
}

fn errors(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## Errors and close codes\n");
    let mut any = false;
    for (title, map) in [
        ("errors", &r.errors),
        ("closed by the server or lost", &r.closes),
        ("failed connection attempts", &r.connect_failures),
    ] {
        for (k, v) in map {
            any = true;
            let _ = writeln!(out, "- {title}: `{k}` × {v}");
        }
    }
    if r.bad_frames.count > 0 {
        any = true;
        let _ = writeln!(out, "- unreadable frames: {}", r.bad_frames.count);
        for e in &r.bad_frames.examples {
            let _ = writeln!(out, "  - `{e}`");
        }
    }
    if !any {
        out.push_str("None.\n");
    }
}

fn resources(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## Resources\n");
    if let Some(s) = &r.server {
        let _ = writeln!(
            out,
            "- Server (pid {}): CPU {:.0}% of one core on average over the traffic (peak one-second {:.0}%); \
             RSS {:.1} MiB before connections, {:.1} MiB connected (**{:.1} KiB per connection**), \
             {:.1} MiB at the end of the traffic ({:.1} KiB per connection).",
            s.pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
            s.traffic.cpu_avg_percent,
            s.traffic.cpu_peak_percent,
            s.rss_before_kib as f64 / 1024.0,
            s.rss_connected_kib as f64 / 1024.0,
            s.rss_per_connection_bytes / 1024.0,
            s.rss_loaded_kib as f64 / 1024.0,
            s.rss_per_connection_loaded_bytes / 1024.0
        );
        if let Some(c) = &s.connect {
            let _ = writeln!(
                out,
                "- Server while connecting: CPU {:.0}% average, peak {:.0}%.",
                c.cpu_avg_percent, c.cpu_peak_percent
            );
        }
    } else {
        out.push_str("- Server: not sampled (give --server-pid).\n");
    }
    let lag = &r.loadgen.send_lag;
    let _ = writeln!(
        out,
        "- Load generator: send lag p50 {} ms, p99 {} ms, max {} ms{}.",
        ms(lag.p50),
        ms(lag.p99),
        ms(lag.max),
        r.loadgen
            .traffic
            .as_ref()
            .map(|u| format!(
                "; CPU {:.0}% of one core over the traffic",
                u.cpu_avg_percent
            ))
            .unwrap_or_default()
    );
    if !r.frames.is_empty() {
        let sizes: Vec<String> = r
            .frames
            .iter()
            .map(|f| format!("{} {} B", f.kind, f.avg_bytes))
            .collect();
        let _ = writeln!(out, "- Average frame size received: {}.", sizes.join(", "));
    }
}

fn compare(out: &mut String, r: &Report, prev: &Value) {
    let now = serde_json::to_value(r).unwrap_or(Value::Null);
    let pick = |v: &Value, path: &[&str]| -> Option<f64> {
        let mut cur = v;
        for p in path {
            cur = match p.parse::<usize>() {
                Ok(i) => cur.get(i)?,
                Err(_) => cur.get(p)?,
            };
        }
        cur.as_f64()
    };
    let _ = writeln!(
        out,
        "\n## Compared with the previous report ({}, commit {})\n\n| figure | previous | now |\n|---|---|---|",
        prev["run"]["date"].as_str().unwrap_or("?"),
        prev["run"]["commit"].as_str().unwrap_or("?")
    );
    let figures: [(&str, &[&str]); 6] = [
        ("fan-out p50 (ms)", &["fanout", "0", "latency", "p50"]),
        ("fan-out p99 (ms)", &["fanout", "0", "latency", "p99"]),
        ("fan-out max (ms)", &["fanout", "0", "latency", "max"]),
        ("missing deliveries", &["delivery", "total", "missing"]),
        ("server CPU (%)", &["server", "traffic", "cpu_avg_percent"]),
        (
            "server RSS per connection, connected (B)",
            &["server", "rss_per_connection_bytes"],
        ),
    ];
    for (name, path) in figures {
        let f = |v: Option<f64>| v.map_or("—".into(), |x| format!("{x:.2}"));
        let _ = writeln!(
            out,
            "| {name} | {} | {} |",
            f(pick(prev, path)),
            f(pick(&now, path))
        );
    }
}
