//! Checks of a command line: bounds, targets, and options that make no sense together.

use std::path::Path;
use std::time::Duration;

use super::*;

pub(super) fn build(cmd: &ScenarioCmd) -> Result<Plan, PlanError> {
    let (scenario, common, storm, ramp) = match cmd {
        ScenarioCmd::Spike(c) => (Scenario::Spike, c, None, None),
        ScenarioCmd::Steady(c) => (Scenario::Steady, c, None, None),
        ScenarioCmd::ReconnectStorm { common, storm } => {
            (Scenario::ReconnectStorm, common, Some(storm), None)
        }
        ScenarioCmd::Ramp { common, ramp } => (Scenario::Ramp, common, None, Some(ramp)),
    };
    let err = |m: String| Err(PlanError(m));

    let mut targets = Vec::new();
    for t in &common.targets {
        targets.push(Target::parse(t, common.allow_remote).map_err(|e| PlanError(e.to_string()))?);
    }
    if targets.is_empty() {
        return err("give at least one --target".into());
    }

    if common.sessions == 0 || common.sessions > MAX_SESSIONS {
        return err(format!("--sessions must be 1 to {MAX_SESSIONS}"));
    }
    if common.participants < 2 || common.participants > MAX_PARTICIPANTS {
        return err(format!(
            "--participants must be 2 to {MAX_PARTICIPANTS} (one shopper, the rest customers)"
        ));
    }
    check_span("--within", common.within, Duration::ZERO)?;
    check_span("--duration", common.duration, Duration::from_secs(1))?;
    check_span(
        "--drain-timeout",
        common.drain_timeout,
        Duration::from_secs(1),
    )?;
    for (flag, interval) in [
        ("--card-interval", common.card_interval),
        ("--shopper-chat-interval", common.shopper_chat_interval),
        ("--chat-interval", common.chat_interval),
        ("--cart-interval", common.cart_interval),
    ] {
        if let Some(i) = interval {
            if i < MIN_INTERVAL {
                return err(format!("{flag} must be at least {MIN_INTERVAL:?} (or off)"));
            }
        }
    }
    if !(0.0..=1.0).contains(&common.checkout_fraction) {
        return err("--checkout-fraction must be between 0 and 1".into());
    }
    if common.shoppers == Some(0) {
        return err("--shoppers must be at least 1".into());
    }
    if common.progress_interval == Some(Duration::ZERO) {
        return err("--progress-interval must be above 0 (or off)".into());
    }
    // A pid that names no process would leave the server figures silently empty.
    for pid in &common.server_pids {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return err(format!("--server-pid {pid}: no such process"));
        }
    }

    let peer = common.kind != TargetKind::Vitrine;
    let customer_mix = match &common.customer_mix {
        Some(mix) => mix.clone(),
        None if peer => Mix::watchers(),
        // unwrap: a constant that parses.
        None => "watcher=1,chatter=1,buyer=1"
            .parse()
            .expect("default mix parses"),
    };
    if peer && !customer_mix.only_watchers() {
        return err(format!(
            "the {} peer carries the shopper's cards and chat only: use --customer-mix watcher=1",
            common.kind.name()
        ));
    }
    if !peer && common.admin_token.is_none() {
        return err(
            "a Vitrine run needs --admin-token (or VITRINE_ADMIN_TOKEN) to create shoppers and \
             sessions"
                .into(),
        );
    }

    let storm = match storm {
        None => None,
        Some(_) if peer => {
            return err(format!(
                "reconnect-storm needs resumable sessions; the {} peer has none",
                common.kind.name()
            ))
        }
        Some(s) => {
            if !(s.drop_fraction > 0.0 && s.drop_fraction <= 1.0) {
                return err("--drop-fraction must be above 0 and at most 1".into());
            }
            if s.storm_at >= common.duration {
                return err("--storm-at must fall within --duration".into());
            }
            check_span(
                "--resume-deadline",
                s.resume_deadline,
                Duration::from_secs(1),
            )?;
            Some(Storm {
                at: s.storm_at,
                fraction: s.drop_fraction,
                resume_deadline: s.resume_deadline,
            })
        }
    };

    let ramp = match ramp {
        None => None,
        Some(r) => {
            if r.step_sessions == 0 {
                return err("--step-sessions must be at least 1".into());
            }
            if r.max_sessions < common.sessions || r.max_sessions > MAX_SESSIONS {
                return err(format!(
                    "--max-sessions must be from --sessions ({}) to {MAX_SESSIONS}",
                    common.sessions
                ));
            }
            check_span("--step-duration", r.step_duration, Duration::from_secs(1))?;
            if !(0.0..=1.0).contains(&r.max_error_rate) {
                return err("--max-error-rate must be between 0 and 1".into());
            }
            Some(Ramp {
                step_sessions: r.step_sessions,
                max_sessions: r.max_sessions,
                step_duration: r.step_duration,
                max_p99: r.max_p99,
                max_error_rate: r.max_error_rate,
            })
        }
    };

    let final_sessions = ramp.as_ref().map_or(common.sessions, |r| r.max_sessions);
    let connections = final_sessions * common.participants;
    if connections > MAX_CONNECTIONS {
        return err(format!(
            "{connections} connections is over the limit of {MAX_CONNECTIONS} per run"
        ));
    }

    let max_run_time = match common.max_run_time {
        Some(t) if t.is_zero() => return err("--max-run-time must be above 0".into()),
        Some(t) => t,
        None => derived_run_time(common, storm.as_ref(), ramp.as_ref()),
    };
    if max_run_time > MAX_RUN_TIME {
        return err(format!(
            "the run could take {}, over the limit of {}; shorten it or give a smaller \
             --max-run-time",
            humantime::format_duration(max_run_time),
            humantime::format_duration(MAX_RUN_TIME)
        ));
    }

    Ok(Plan {
        scenario,
        kind: common.kind,
        targets,
        admin_token: common.admin_token.clone(),
        sessions: common.sessions,
        participants: common.participants,
        within: common.within,
        duration: common.duration,
        traffic: Traffic {
            card_interval: common.card_interval,
            shopper_chat_interval: common.shopper_chat_interval,
            chat_interval: if peer { None } else { common.chat_interval },
            cart_interval: if peer { None } else { common.cart_interval },
            customer_mix,
            checkout_fraction: if peer { 0.0 } else { common.checkout_fraction },
        },
        storm,
        ramp,
        drain_timeout: common.drain_timeout,
        max_run_time,
        shoppers: common
            .shoppers
            .unwrap_or(final_sessions)
            .min(final_sessions),
        server_pids: common.server_pids.clone(),
        label: common.label.clone(),
        progress_interval: common.progress_interval,
    })
}

fn check_span(flag: &str, d: Duration, min: Duration) -> Result<(), PlanError> {
    if d < min || d > MAX_DURATION {
        return Err(PlanError(format!(
            "{flag} must be from {} to {}",
            humantime::format_duration(min),
            humantime::format_duration(MAX_DURATION)
        )));
    }
    Ok(())
}

/// Setup, connection window, traffic and wrap-up, with room to spare.
fn derived_run_time(common: &Common, _storm: Option<&Storm>, ramp: Option<&Ramp>) -> Duration {
    let margin = Duration::from_secs(120);
    let per_phase = common.within + common.drain_timeout + Duration::from_secs(10);
    match ramp {
        None => margin + per_phase + common.duration,
        Some(r) => {
            let extra = r.max_sessions.saturating_sub(common.sessions);
            let steps = 1 + extra.div_ceil(r.step_sessions) as u32;
            margin + (per_phase + r.step_duration) * steps
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(words: &str) -> Result<Plan, PlanError> {
        Plan::from_words(words.split_whitespace())
    }

    #[test]
    fn a_spike_plan_reads_its_flags() {
        let p = plan(
            "spike --admin-token t0123456789abcdef --sessions 1000 --participants 3 \
             --within 5s --duration 30s --card-interval 500ms",
        )
        .unwrap();
        assert_eq!(p.scenario, Scenario::Spike);
        assert_eq!(p.connections(), 3000);
        assert_eq!(p.traffic.card_interval, Some(Duration::from_millis(500)));
        assert!(p.max_run_time > Duration::from_secs(35));
    }

    #[test]
    fn unbounded_or_odd_runs_are_refused_with_a_reason() {
        let cases = [
            ("spike --admin-token x --sessions 0", "--sessions"),
            ("spike --admin-token x --sessions 20001", "--sessions"),
            ("spike --admin-token x --participants 1", "--participants"),
            ("spike --admin-token x --duration 2h", "--duration"),
            (
                "spike --admin-token x --card-interval 1ms",
                "--card-interval",
            ),
            (
                "spike --admin-token x --target http://10.1.2.3:80",
                "loopback",
            ),
            ("spike --sessions 5", "admin-token"),
            ("spike --kind socketio --customer-mix chatter=1", "watcher"),
            ("reconnect-storm --kind socketio", "resumable"),
            (
                "spike --admin-token x --sessions 10000 --participants 4",
                "limit",
            ),
            ("spike --admin-token x --duration soon", "duration"),
            ("spike --admin-token x --max-run-time 0s", "--max-run-time"),
            (
                "spike --admin-token x --progress-interval 0s",
                "--progress-interval",
            ),
            (
                "spike --admin-token x --server-pid 4294967294",
                "--server-pid 4294967294",
            ),
        ];
        for (words, needle) in cases {
            let e = plan(words).expect_err(words).to_string();
            assert!(e.contains(needle), "{words}: {e}");
        }
    }

    #[test]
    fn peers_need_no_token_and_carry_cards_only() {
        let p = plan("spike --kind socketio --target http://127.0.0.1:3000").unwrap();
        assert_eq!(p.traffic.chat_interval, None);
        assert_eq!(p.traffic.checkout_fraction, 0.0);
    }
}
