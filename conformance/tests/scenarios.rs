//! Data-driven scenario suite (see the crate docs).

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use oracle::diff::load_declared;
use oracle::duts::DutKind;
use oracle::run::RunOptions;
use oracle::suite::{self, DutOutcome, SuiteOptions};

fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

fn main() {
    // Before any thread exists: become root in a user namespace if needed.
    let privilege = oracle::userns::ensure_privileges();
    // Millisecond tolerances: run ahead of other work on the machine.
    oracle::userns::raise_priority();
    let mut args = Arguments::from_args();
    // One scenario at a time unless asked otherwise (`-- --test-threads N`):
    // each already runs its three DUTs side by side, and the real-time
    // ones are judged against a 4 ms default tolerance, which a second
    // scenario's load on a 2-core machine can eat (measured: a stack
    // SYN-ACK matched late once in a CI run with other builds going).
    if args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    let no_namespaces = match privilege {
        Err(e) => Some(e.to_string()),
        Ok(_) => oracle::userns::namespaces_available().err(),
    };
    if let Some(why) = &no_namespaces {
        eprintln!(
            "conformance: network namespaces unavailable here ({why}); \
             the linux and stack DUTs are SKIPPED (shown as ignored), only sim runs"
        );
    }
    let root = repo_root();
    let files = suite::discover(&[root.join("corpus/scenarios")]).expect("scenarios");
    let declared = load_declared(&root.join("corpus/DIVERGENCES.md")).expect("DIVERGENCES.md");
    let mut trials = Vec::new();
    for file in files {
        let id = suite::scenario_id(&file);
        let mut duts = vec![DutKind::Sim];
        if no_namespaces.is_none() {
            duts.extend([DutKind::Linux, DutKind::Stack]);
        } else {
            for d in [DutKind::Linux, DutKind::Stack] {
                trials.push(
                    Trial::test(format!("{id}::{}", d.name()), || Ok(())).with_ignored_flag(true),
                );
            }
        }
        let opts = SuiteOptions {
            duts,
            no_namespaces: no_namespaces.clone(),
            run: RunOptions::default(),
            declared: declared.clone(),
            seed: 1,
            retry: true,
        };
        trials.push(Trial::test(id.clone(), move || run_one(&file, &opts)));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run_one(file: &Path, opts: &SuiteOptions) -> Result<(), Failed> {
    let o = suite::run_scenario(file, opts);
    let mut problems = suite::details(&o);
    if let Some(first) = &o.retried {
        // Shown whether or not the second run passed: a scenario that
        // needs one is worth a look.
        eprintln!(
            "{}: run a second time; the first run failed:\n{first}",
            o.id
        );
        problems.push_str(&format!("(first run:)\n{first}"));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("conformance/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "{} — normalized trace (see oracle::normalize)",
        o.id
    ));
    for (kind, d) in &o.duts {
        let DutOutcome::Ran { norm, .. } = d else {
            continue;
        };
        // Times and TS values are exact only in virtual time.
        let text = suite::render_trace(norm, *kind == DutKind::Sim);
        let name = format!("{}.{}", o.id.replace('/', "__"), kind.name());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name, text));
        }));
        if r.is_err() {
            problems.push_str(&format!(
                "[{}] trace differs from its snapshot\n",
                kind.name()
            ));
        }
    }
    if o.passed() && !problems.contains("trace differs") {
        Ok(())
    } else {
        Err(problems.into())
    }
}
