//! The `vitrine-loadtest` command: parses the plan, runs it with a live progress line on
//! standard error, writes the JSON report and the Markdown summary, and prints the summary.
//!
//! Exit status: 0 when every expected delivery was accounted for exactly, 3 when the run
//! finished but was not exact, 2 for a plan that cannot run, 1 when the run failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use vitrine_loadtest::plan::Cli;
use vitrine_loadtest::report::markdown;
use vitrine_loadtest::{run, Plan, ProgressFn, Report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let plan = match Plan::from_cli(&cli.scenario) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let common = cli.scenario.common().clone();
    let previous = match common.compare.as_deref().map(read_previous).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = common.threads.filter(|&n| n > 0) {
        builder.worker_threads(n);
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };

    eprintln!(
        "vitrine-loadtest: {} against {} ({} connections), at most {}",
        plan.scenario.name(),
        plan.targets
            .iter()
            .map(|t| t.base.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.connections(),
        humantime::format_duration(plan.max_run_time)
    );
    let progress: ProgressFn = Arc::new(|p| eprintln!("{p}"));
    let report = match runtime.block_on(run(plan, Some(progress))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };

    let summary = markdown::render(&report, previous.as_ref());
    match write(&report, &summary, &common.report_dir) {
        Ok((json, md)) => eprintln!("report: {}\nsummary: {}", json.display(), md.display()),
        Err(e) => eprintln!("error: {e:#}"),
    }
    print_summary(&summary);
    if report.verdict.exact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

#[allow(clippy::print_stdout)] // The summary is the command's output.
fn print_summary(summary: &str) {
    println!("{summary}");
}

fn read_previous(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read --compare {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("--compare {} is not a JSON report", path.display()))
}

/// Writes `<date>-<scenario>-<kind>-<sessions>x<participants>.{json,md}`.
fn write(report: &Report, summary: &str, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create the report directory {}", dir.display()))?;
    let stem = format!(
        "{}-{}-{}-{}x{}",
        report
            .run
            .date
            .replace([':', '-'], "")
            .replace('T', "-")
            .trim_end_matches('Z'),
        report.run.scenario,
        report.run.kind,
        report.plan.final_sessions(),
        report.plan.participants
    );
    let json = dir.join(format!("{stem}.json"));
    let md = dir.join(format!("{stem}.md"));
    std::fs::write(&json, report.to_json())
        .with_context(|| format!("failed to write {}", json.display()))?;
    std::fs::write(&md, summary).with_context(|| format!("failed to write {}", md.display()))?;
    Ok((json, md))
}
