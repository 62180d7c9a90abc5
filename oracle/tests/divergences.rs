//! Differential fuzzing in namespaces: a handful of `oracle fuzz` cases on
//! Linux and the simulated stack, and every finding kept under
//! `corpus/divergences/` replayed: it passes on Linux (its expected lines are
//! Linux's) and its difference from the stack is declared in
//! `corpus/DIVERGENCES.md`. Without namespaces the tests are IGNORED, with
//! the reason on stderr.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use oracle::diff::load_declared;
use oracle::duts::DutKind;
use oracle::fuzz::{fuzz, FuzzOptions};
use oracle::run::{RunOptions, Verdict};
use oracle::suite::{run_scenario, DutOutcome, SuiteOptions};
use oracle::userns;

fn main() {
    let privilege = userns::ensure_privileges();
    let args = Arguments::from_args();
    let available = match &privilege {
        Ok(_) => userns::namespaces_available(),
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = &available {
        eprintln!("divergences: network namespaces unavailable, IGNORED: {why}");
    }
    let tests = vec![
        Trial::test("fuzz_runs_cases_on_linux_and_sim", fuzz_smoke)
            .with_ignored_flag(available.is_err()),
        Trial::test("kept_divergences_replay", kept_divergences)
            .with_ignored_flag(available.is_err()),
    ];
    libtest_mimic::run(&args, tests).exit();
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn fuzz_smoke() -> Result<(), Failed> {
    let out = std::env::temp_dir().join(format!("oracle-fuzz-test-{}", std::process::id()));
    let opts = FuzzOptions {
        seed: 4242,
        cases: Some(6),
        time: None,
        jobs: 2,
        steps: 6,
        out: out.clone(),
        duts: [DutKind::Linux, DutKind::Sim],
        declared: load_declared(&corpus().join("DIVERGENCES.md")).map_err(|e| e.to_string())?,
        shrink_budget: 6,
        command: "cargo test -p oracle --test divergences".into(),
    };
    let sm = fuzz(&opts, &|l| eprintln!("{l}"));
    let _ = std::fs::remove_dir_all(&out);
    if sm.skipped > 0 {
        return Err(format!("{} cases skipped: {:?}", sm.skipped, sm.skip_reasons).into());
    }
    if sm.cases != 6 {
        return Err(format!("{} cases ran, expected 6", sm.cases).into());
    }
    for w in &sm.written {
        w.replays_on_linux
            .clone()
            .map_err(|e| format!("{} does not replay on linux: {e}", w.signature))?;
    }
    Ok(())
}

fn kept_divergences() -> Result<(), Failed> {
    let dir = corpus().join("divergences");
    let Ok(files) = oracle::suite::discover(&[dir]) else {
        return Ok(()); // none kept
    };
    let opts = SuiteOptions {
        duts: vec![DutKind::Linux, DutKind::Stack],
        no_namespaces: None,
        run: RunOptions::default(),
        declared: load_declared(&corpus().join("DIVERGENCES.md")).map_err(|e| e.to_string())?,
        seed: 1,
        retry: true,
    };
    let mut errors = Vec::new();
    for f in &files {
        let o = run_scenario(f, &opts);
        if let Some(e) = &o.parse_error {
            errors.push(format!("{}: {e}", f.display()));
            continue;
        }
        match o.duts.get(&DutKind::Linux) {
            Some(DutOutcome::Ran { result, .. }) if result.verdict == Verdict::Passed => {}
            other => errors.push(format!("{}: linux did not pass: {other:?}", f.display())),
        }
        for d in &o.diffs {
            if !d.is_clean() {
                errors.push(format!("{}: undeclared: {d}", f.display()));
            }
            if d.differences.is_empty() {
                errors.push(format!(
                    "{}: linux and {} agree: the divergence is gone, move the script to corpus/scenarios",
                    f.display(),
                    d.right
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n").into())
    }
}
