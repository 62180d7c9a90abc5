//! Every scenario has a header saying what it verifies; every TCP scenario
//! names the RFC 9293 MUSTs it shows (or says that no numbered MUST
//! applies); `docs/must-coverage.md` is current.

use std::path::{Path, PathBuf};

use conformance::musts::{claims, coverage, header, MUSTS};

fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

fn scenarios() -> Vec<(String, String)> {
    let root = repo_root();
    let files = oracle::suite::discover(&[root.join("corpus/scenarios")]).expect("scenarios");
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("readable scenario");
            (oracle::suite::scenario_id(f), text)
        })
        .collect()
}

#[test]
fn every_scenario_has_a_header_and_tcp_ones_name_their_musts() {
    let mut problems = Vec::new();
    for (id, text) in scenarios() {
        if header(&text).len() < 2 {
            problems.push(format!(
                "{id}: needs a comment of at least two lines at the top"
            ));
        }
        let ns = claims(&text);
        // A TCP scenario names the MUSTs it shows, or says that none of
        // RFC 9293's numbered MUSTs applies (its rule is an unnumbered one,
        // another RFC's, or Linux's).
        let says_none = header(&text)
            .join(" ")
            .replace("// ", " ")
            .contains("no numbered MUST applies");
        if id.starts_with("tcp/") && ns.is_empty() && !says_none {
            problems.push(format!(
                "{id}: names no RFC 9293 MUST-N in its header, nor says \"no numbered MUST applies\""
            ));
        }
        for n in ns {
            if !MUSTS.iter().any(|(m, _)| *m == n) {
                problems.push(format!("{id}: MUST-{n} does not exist in RFC 9293"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn coverage_document_is_current() {
    let pairs: Vec<(String, Vec<u8>)> = scenarios()
        .into_iter()
        .map(|(id, text)| {
            let c = claims(&text);
            (id, c)
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let want = coverage(&pairs);
    let path = repo_root().join("docs/must-coverage.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs dir")).expect("mkdir docs");
        std::fs::write(&path, &want).expect("write docs/must-coverage.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/must-coverage.md is stale: run `UPDATE_DOCS=1 cargo test -p conformance --test must_coverage`"
    );
}
