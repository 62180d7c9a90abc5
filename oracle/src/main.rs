//! `oracle`: run packetdrill-language scenarios against Linux and the stack.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use oracle::diff::load_declared;
use oracle::duts::DutKind;
use oracle::report;
use oracle::run::{RunOptions, Tolerance};
use oracle::suite::{self, DutOutcome, ScenarioOutcome, SuiteOptions};

#[derive(Parser)]
#[command(
    version,
    about = "Runs packetdrill-language scripts against the Linux kernel and the stack, and diffs them"
)]
struct Cli {
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario scripts (files, or directories searched for *.pkt).
    Run {
        /// Scripts or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// DUTs to run, comma-separated: linux, stack, sim.
        /// Default: every DUT that can run here.
        #[arg(long, value_delimiter = ',')]
        dut: Vec<String>,
        /// Write one pcap per scenario and DUT into this directory.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Write each DUT's normalized text trace into this directory.
        #[arg(long)]
        traces: Option<PathBuf>,
        /// Write every distinct frame of every trace as one file into this
        /// directory (seeds for the parse_frame fuzz corpus).
        #[arg(long)]
        frames: Option<PathBuf>,
        /// The declared divergences (markdown table).
        #[arg(long, default_value = "corpus/DIVERGENCES.md")]
        divergences: PathBuf,
        /// Timing tolerance in µs (packetdrill's --tolerance_usecs).
        #[arg(long, default_value_t = 4000)]
        tolerance_usecs: i64,
        /// Relative timing tolerance: this percent of the interval since
        /// the previous event, when larger (packetdrill's --tolerance_percent).
        #[arg(long, default_value_t = 12.5)]
        tolerance_percent: f64,
        /// Seed of the stack's random source.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the results as JSON to this file (schema in the README).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write a static HTML report (index.html, a page per scenario with
        /// ladder diagrams, the pcaps and traces under files/) into this directory.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Run this many scenarios at once (each in namespaces of its own).
        /// More than 1 loads the machine and can cost timing tolerance.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: u16,
        /// packetdrill's rule for an outbound packet no line expects: it
        /// fails the script only if a later `>` line meets it instead of its
        /// own packet (default: it fails the script at once). For public
        /// packetdrill scripts, which leave out e.g. delayed ACKs.
        #[arg(long)]
        lenient: bool,
        /// Do not run a scenario a second time when its first run failed on
        /// the real-time DUTs only (by default it is, and the first run's
        /// failure is printed and kept in the JSON as `first_run`).
        #[arg(long)]
        no_retry: bool,
    },
    /// Differential fuzzing: generated cases on Linux and the stack,
    /// divergences shrunk and written as scripts.
    Fuzz(FuzzArgs),
}

/// `oracle fuzz`'s arguments.
#[derive(clap::Args)]
struct FuzzArgs {
    /// Seed of the first case (case i uses seed + i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many cases.
    #[arg(long)]
    cases: Option<u64>,
    /// Stop after this many seconds (default 60 when --cases is not given).
    #[arg(long)]
    time: Option<u64>,
    /// Cases run at once (each DUT of each in namespaces of its own).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// At most this many stimuli per case.
    #[arg(long, default_value_t = 8)]
    steps: usize,
    /// Where divergences are written.
    #[arg(long, default_value = "corpus/divergences")]
    out: PathBuf,
    /// The two DUTs: linux and the one under test (stack or sim).
    #[arg(long, value_delimiter = ',', default_value = "linux,stack")]
    dut: Vec<String>,
    /// The declared divergences (rows with scenario `fuzz`).
    #[arg(long, default_value = "corpus/DIVERGENCES.md")]
    divergences: PathBuf,
    /// Runs a shrink may spend on one divergence.
    #[arg(long, default_value_t = 40)]
    shrink_budget: usize,
}

fn main() -> ExitCode {
    // Before any thread exists: become root in a user namespace if needed.
    let privilege = oracle::userns::ensure_privileges();
    oracle::userns::raise_priority();
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main(cli, privilege) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("oracle: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(
    cli: Cli,
    privilege: Result<oracle::userns::Privilege, oracle::netns::NetnsError>,
) -> anyhow::Result<bool> {
    let verbose = cli.verbose;
    let command = match cli.command {
        Command::Fuzz(args) => return fuzz_main(privilege, args),
        run => run,
    };
    let Command::Run {
        paths,
        dut,
        pcap,
        traces,
        frames,
        divergences,
        tolerance_usecs,
        tolerance_percent,
        seed,
        json,
        junit,
        report,
        jobs,
        lenient,
        no_retry,
    } = command
    else {
        unreachable!("fuzz returned above");
    };
    let no_namespaces = match privilege {
        Err(e) => Some(e.to_string()),
        Ok(_) => oracle::userns::namespaces_available().err(),
    };
    let duts: Vec<DutKind> = if dut.is_empty() {
        match &no_namespaces {
            Some(why) => {
                eprintln!(
                    "oracle: network namespaces unavailable ({why}); running the sim DUT only"
                );
                vec![DutKind::Sim]
            }
            None => DutKind::ALL.to_vec(),
        }
    } else {
        let mut v = Vec::new();
        for name in &dut {
            match DutKind::from_name(name.trim()) {
                Some(k) => v.push(k),
                None => bail!("unknown DUT `{name}` (known: linux, stack, sim)"),
            }
        }
        v
    };
    let files = suite::discover(&paths)?;
    let declared = load_declared(&divergences)?;
    if let Some(dir) = &report {
        report::html::clear(dir).with_context(|| format!("--report {}", dir.display()))?;
    }
    let report_files = report.as_ref().map(|d| d.join(report::html::FILES));
    for dir in [&pcap, &traces, &frames, &report, &report_files]
        .into_iter()
        .flatten()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let opts = SuiteOptions {
        duts: duts.clone(),
        no_namespaces,
        run: RunOptions {
            tolerance: Tolerance {
                usecs: tolerance_usecs,
                percent: tolerance_percent,
            },
            lenient,
            ..RunOptions::default()
        },
        declared,
        seed,
        retry: !no_retry,
    };
    let outcomes = run_all(&files, &opts, usize::from(jobs));
    let mut artifacts = report::Artifacts::new();
    for o in &outcomes {
        for (kind, d) in &o.duts {
            let DutOutcome::Ran { result, norm } = d else {
                continue;
            };
            let stem = report::stem(&o.id);
            let files = artifacts.entry((o.id.clone(), *kind)).or_default();
            for dir in [&pcap, &report_files].into_iter().flatten() {
                let p = dir.join(format!("{stem}.{}.pcap", kind.name()));
                oracle::pcap::write_pcap(&p, &result.trace)
                    .with_context(|| format!("writing {}", p.display()))?;
                files.pcaps.push(p);
            }
            if let Some(dir) = &frames {
                for e in &result.trace.events {
                    if let oracle::trace::TraceKind::Frame { bytes, .. } = &e.kind {
                        // Named by content, so the same frame is one file.
                        let mut h = std::collections::hash_map::DefaultHasher::new();
                        std::hash::Hash::hash(bytes, &mut h);
                        let p = dir.join(format!("{:016x}", std::hash::Hasher::finish(&h)));
                        std::fs::write(&p, bytes)
                            .with_context(|| format!("writing {}", p.display()))?;
                    }
                }
            }
            for dir in [&traces, &report_files].into_iter().flatten() {
                let p = dir.join(format!("{stem}.{}.txt", kind.name()));
                std::fs::write(&p, suite::render_trace(norm, true))
                    .with_context(|| format!("writing {}", p.display()))?;
                files.traces.push(p);
            }
        }
    }
    if let Some(p) = &json {
        let text = report::json::render(&outcomes, &duts, &artifacts, tolerance_usecs, seed);
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = &junit {
        std::fs::write(p, report::junit::render(&outcomes))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(dir) = &report {
        report::html::write(dir, &outcomes, &duts, &artifacts)
            .with_context(|| format!("writing the report into {}", dir.display()))?;
    }
    print!("{}", suite::table(&outcomes, &duts));
    for o in outcomes.iter().filter(|o| o.passed()) {
        if let Some(first) = &o.retried {
            println!(
                "\n== {} == passed on a second run; the first run failed:\n{}",
                o.id,
                first.trim_end()
            );
        }
    }
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    for o in &failed {
        println!("\n== {} ==\n{}", o.id, suite::details(o).trim_end());
        if let Some(first) = &o.retried {
            println!("(the first run failed too:)\n{}", first.trim_end());
        }
        let notes = suite::notes(o);
        if !notes.is_empty() {
            println!(
                "notes (settings a DUT did not apply, print output):\n{}",
                notes.trim_end()
            );
        }
    }
    let noted = outcomes
        .iter()
        .filter(|o| o.passed())
        .map(suite::notes)
        .filter(|n| !n.is_empty());
    if verbose > 0 {
        for n in noted {
            print!("\n{n}");
        }
    } else if noted.count() > 0 {
        println!("\n(passing scenarios have notes, settings a DUT did not apply or print output: -v shows them)");
    }
    let skipped: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.duts.values())
        .filter_map(|d| match d {
            DutOutcome::Skipped(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    if let Some(why) = skipped.first() {
        println!("\nskipped DUT runs: {} ({why})", skipped.len());
    }
    println!(
        "\n{} scenarios: {} passed, {} failed",
        outcomes.len(),
        outcomes.len() - failed.len(),
        failed.len()
    );
    Ok(failed.is_empty())
}

/// `oracle fuzz`.
#[allow(clippy::too_many_arguments)]
fn fuzz_main(
    privilege: Result<oracle::userns::Privilege, oracle::netns::NetnsError>,
    args: FuzzArgs,
) -> anyhow::Result<bool> {
    let FuzzArgs {
        seed,
        cases,
        time,
        jobs,
        steps,
        out,
        dut,
        divergences,
        shrink_budget,
    } = args;
    if let Err(e) = privilege {
        bail!("oracle fuzz needs network namespaces: {e}");
    }
    if let Err(why) = oracle::userns::namespaces_available() {
        bail!("oracle fuzz needs network namespaces: {why}");
    }
    let kinds: Vec<DutKind> = dut
        .iter()
        .map(|n| {
            DutKind::from_name(n.trim())
                .with_context(|| format!("unknown DUT `{n}` (known: linux, stack, sim)"))
        })
        .collect::<anyhow::Result<_>>()?;
    let [DutKind::Linux, other] = kinds[..] else {
        bail!("--dut takes linux and the DUT under test, e.g. linux,stack");
    };
    if other == DutKind::Linux {
        bail!("--dut: the second DUT must be stack or sim");
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let opts = oracle::fuzz::FuzzOptions {
        seed,
        cases,
        time: match (cases, time) {
            (_, Some(t)) => Some(std::time::Duration::from_secs(t)),
            (None, None) => Some(std::time::Duration::from_secs(60)),
            (Some(_), None) => None,
        },
        jobs: usize::from(jobs),
        steps,
        out,
        duts: [DutKind::Linux, other],
        declared: load_declared(&divergences)?,
        shrink_budget,
        command,
    };
    let progress = |l: &str| eprintln!("oracle fuzz: {l}");
    let sm = oracle::fuzz::fuzz(&opts, &progress);
    println!(
                    "{} cases in {:.1} s ({:.2} cases/s, {} jobs): {} new divergences, {} known, {} declared-only, {} not reproduced, {} skipped",
                    sm.cases,
                    sm.elapsed.as_secs_f64(),
                    sm.rate(),
                    jobs,
                    sm.written.len(),
                    sm.known,
                    sm.declared,
                    sm.flaky,
                    sm.skipped
                );
    for why in &sm.skip_reasons {
        println!("  skipped: {why}");
    }
    for (row, (n, seeds)) in &sm.declared_rows {
        let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
        println!(
            "  declared `{row}`: {n} cases (e.g. seeds {})",
            seeds.join(", ")
        );
    }
    for w in &sm.written {
        let replay = match &w.replays_on_linux {
            Ok(()) => "replays on linux".to_string(),
            Err(e) => format!(
                "DOES NOT replay on linux: {}",
                e.lines().next().unwrap_or("")
            ),
        };
        println!("  {} → {} ({replay})", w.signature, w.path.display());
    }
    Ok(sm.written.is_empty())
}

/// Runs every scenario, `jobs` at a time, and returns the outcomes in the
/// order of `files`. When stderr is a terminal, a progress line
/// (`[3/52] tcp/rto …`) is kept up to date on it.
fn run_all(files: &[PathBuf], opts: &SuiteOptions, jobs: usize) -> Vec<ScenarioOutcome> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let next = AtomicUsize::new(0);
    // (index of the next scenario to start, finished count, ids running).
    let running: Mutex<(usize, Vec<String>)> = Mutex::new((0, Vec::new()));
    let results: Mutex<Vec<Option<ScenarioOutcome>>> = Mutex::new(vec![None; files.len()]);
    let progress = |state: &(usize, Vec<String>)| {
        if tty {
            eprint!(
                "\r\x1b[K[{}/{}] {} …",
                (state.0 + 1).min(files.len()),
                files.len(),
                state.1.join(", ")
            );
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, files.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(f) = files.get(i) else {
                    break;
                };
                let id = suite::scenario_id(f);
                if let Ok(mut st) = running.lock() {
                    st.1.push(id.clone());
                    progress(&st);
                }
                let o = suite::run_scenario(f, opts);
                if let Ok(mut st) = running.lock() {
                    st.0 += 1;
                    st.1.retain(|x| *x != id);
                    if !st.1.is_empty() {
                        progress(&st);
                    }
                }
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(o);
                }
            });
        }
    });
    if tty {
        eprint!("\r\x1b[K");
    }
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
