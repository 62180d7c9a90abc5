//! `--json`, `--junit` and `--report`: the CLI end to end on the sim DUT
//! (runs anywhere, no namespaces), and the renderers on hand-made outcomes
//! with Linux-vs-stack differences, declared and not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use oracle::diff::{diff, parse_declared};
use oracle::duts::DutKind;
use oracle::normalize::NormEvent;
use oracle::report::{self, Artifacts};
use oracle::run::{Failure, RunFacts, RunResult, Tolerance, Verdict};
use oracle::suite::{self, DutOutcome, ScenarioOutcome};
use oracle::trace::Trace;
use quick_xml::events::Event;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("oracle-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Counts of a JUnit document, read with a real XML parser (which fails on
/// anything not well-formed): testcases, `<failure>`, `<error>`, `<skipped>`
/// elements, and the `tests`/`failures`/`errors`/`skipped` attributes of
/// `<testsuites>` and the sums over `<testsuite>`s.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn junit_counts(xml: &str) -> (Counts, Counts, Counts, Vec<(String, String)>) {
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut elems, mut suites_attr, mut suite_sum) =
        (Counts::default(), Counts::default(), Counts::default());
    let mut depth = 0i32;
    let mut roots = 0;
    // (testcase name, failure message) pairs.
    let mut messages = Vec::new();
    let mut current = String::new();
    let attr = |e: &quick_xml::events::BytesStart, k: &str| -> String {
        e.try_get_attribute(k)
            .expect("attribute parses")
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("attribute unescapes")
                    .into_owned()
            })
            .unwrap_or_default()
    };
    let num = |s: String| s.parse::<usize>().expect("a count");
    loop {
        let ev = r.read_event().expect("well-formed XML");
        let (e, empty) = match &ev {
            Event::Eof => break,
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(_) => {
                depth -= 1;
                continue;
            }
            Event::Text(t) => {
                t.decode().expect("text decodes");
                continue;
            }
            _ => continue,
        };
        if depth == 0 {
            roots += 1;
        }
        if !empty {
            depth += 1;
        }
        let add = |c: &mut Counts| {
            c.tests += num(attr(&e, "tests"));
            c.failures += num(attr(&e, "failures"));
            c.errors += num(attr(&e, "errors"));
            c.skipped += num(attr(&e, "skipped"));
        };
        match e.name().as_ref() {
            b"testsuites" => add(&mut suites_attr),
            b"testsuite" => add(&mut suite_sum),
            b"testcase" => {
                elems.tests += 1;
                current = format!("{}/{}", attr(&e, "classname"), attr(&e, "name"));
            }
            b"failure" => {
                elems.failures += 1;
                messages.push((current.clone(), attr(&e, "message")));
            }
            b"error" => {
                elems.errors += 1;
                messages.push((current.clone(), attr(&e, "message")));
            }
            b"skipped" => elems.skipped += 1,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    assert_eq!(roots, 1, "one root element");
    (elems, suites_attr, suite_sum, messages)
}

#[test]
fn cli_writes_json_junit_and_html_for_the_sim_dut() {
    let dir = tempdir("cli");
    // A passing scenario, one whose line 24 expects a window the stack does
    // not offer (510; Linux and the stack offer 555 there), and one that
    // does not parse (with markup in it).
    let ooo = root().join("corpus/scenarios/tcp/out-of-order.pkt");
    let text = std::fs::read_to_string(&ooo).unwrap();
    let bad_win: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == 24 {
                l.replace("ack 1 <", "ack 1 win 510 <")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(
        bad_win[23].contains("win 510"),
        "line 24 moved: {}",
        bad_win[23]
    );
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(scripts.join("win.pkt"), bad_win.join("\n")).unwrap();
    std::fs::write(
        scripts.join("bad.pkt"),
        "// <b>&\"</b>\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 frob <&> 3\n",
    )
    .unwrap();
    let (json, junit, html) = (dir.join("r.json"), dir.join("r.xml"), dir.join("html"));
    let out = Command::new(env!("CARGO_BIN_EXE_oracle"))
        .current_dir(root())
        .arg("run")
        .arg(&ooo)
        .arg(&scripts)
        .args(["--dut", "sim", "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .arg("--report")
        .arg(&html)
        .output()
        .expect("runs the oracle");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "two scenarios fail:\n{stdout}");

    // JSON.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["schema"], report::json::SCHEMA);
    assert_eq!(v["duts"], serde_json::json!(["sim"]));
    assert_eq!(v["summary"]["scenarios"], 3);
    assert_eq!(v["summary"]["failed"], 2);
    let sc = v["scenarios"].as_array().unwrap();
    let by_id = |id: &str| {
        sc.iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let bad = by_id("bad");
    assert!(bad["script_error"].as_str().unwrap().contains("bad.pkt:3"));
    assert_eq!(bad["passed"], false);
    let win = &by_id("win")["duts"]["sim"];
    assert_eq!(win["verdict"], "fail");
    assert_eq!(win["line"], 24);
    assert!(
        win["message"].as_str().unwrap().contains("expected 510"),
        "{win}"
    );
    let good = by_id("tcp/out-of-order");
    assert_eq!(good["passed"], true);
    assert_eq!(good["comparison"], "none", "only sim ran");
    let sim = &good["duts"]["sim"];
    assert_eq!(sim["verdict"], "pass");
    assert!(sim["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(sim["events"].as_u64().unwrap() > 10);
    for k in ["pcaps", "traces"] {
        let files = sim[k].as_array().unwrap();
        assert_eq!(files.len(), 1, "{k}: {files:?}");
        assert!(Path::new(files[0].as_str().unwrap()).is_file());
    }

    // JUnit: 2 scenarios × (sim + vs linux) + the script error's one case.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let (elems, top, sum, messages) = junit_counts(&xml);
    let want = Counts {
        tests: 5,
        failures: 1,
        errors: 1,
        skipped: 2,
    };
    assert_eq!(elems, want, "{xml}");
    assert_eq!(top, want);
    assert_eq!(sum, want);
    assert!(
        messages
            .iter()
            .any(|(case, m)| case == "win/sim" && m.contains("24: bad outbound packet")),
        "{messages:?}"
    );

    // HTML: the index links every page, pages exist and link their files.
    let index = std::fs::read_to_string(html.join("index.html")).unwrap();
    for page in ["bad.html", "win.html", "tcp_out-of-order.html"] {
        assert!(index.contains(&format!("href=\"{page}\"")), "{page}");
        assert!(html.join(page).is_file(), "{page}");
    }
    let page = std::fs::read_to_string(html.join("tcp_out-of-order.html")).unwrap();
    assert!(page.contains("<svg"), "a ladder");
    assert!(page.contains("href=\"files/tcp_out-of-order.sim.pcap\""));
    assert!(html.join("files/tcp_out-of-order.sim.txt").is_file());
    let bad_page = std::fs::read_to_string(html.join("bad.html")).unwrap();
    assert!(
        bad_page.contains("&lt;b&gt;&amp;&quot;&lt;/b&gt;"),
        "escaped"
    );
    assert!(!bad_page.contains("<b>&"), "nothing unescaped");
    let _ = std::fs::remove_dir_all(&dir);
}

fn ev(line: usize, at: i64, dir: char, tcp: &str) -> NormEvent {
    NormEvent {
        at,
        line: Some(line),
        dir,
        fields: vec![("_tcp", tcp.to_string()), ("_framelen", "len 66".into())],
        ts_rel: None,
        ts_zero: None,
    }
}

fn ran(norm: Vec<NormEvent>, verdict: Verdict) -> DutOutcome {
    DutOutcome::Ran {
        result: RunResult {
            dut: "x",
            trace: Trace::default(),
            verdict,
            facts: RunFacts::default(),
            notes: Vec::new(),
            late: Vec::new(),
        },
        norm,
    }
}

/// Linux and the stack differ at line 3 (declared: window) and line 4
/// (undeclared: ack); the stack also failed its script at line 4.
fn outcome() -> ScenarioOutcome {
    let linux = vec![
        ev(2, 0, '<', "S 0:0(0) win 65535"),
        ev(3, 100, '>', "S. 0:0(0) ack 1 win 65160"),
        ev(4, 10_000, '>', ". 1:1(0) ack 1 win 502"),
    ];
    let stack = vec![
        ev(2, 0, '<', "S 0:0(0) win 65535"),
        ev(3, 120, '>', "S. 0:0(0) ack 1 win 64240"),
        ev(4, 10_050, '>', ". 1:1(0) ack 2 win 502"),
    ];
    let declared = parse_declared(
        "D.md",
        "| x/y | 3 | tcp | the window differs because of a documented Linux fact |\n",
    )
    .unwrap();
    let d = diff(
        "x/y",
        "linux",
        &linux,
        "stack",
        &stack,
        &Tolerance::default().into(),
        &declared,
    );
    let mut duts = BTreeMap::new();
    duts.insert(DutKind::Linux, ran(linux, Verdict::Passed));
    let failure = Failure {
        line: 4,
        script: "+0 > . 1:1(0) ack 1 <x & y>".into(),
        message: "bad outbound packet: ack 2 (expected 1)".into(),
    };
    duts.insert(DutKind::Stack, ran(stack, Verdict::Failed(failure)));
    duts.insert(DutKind::Sim, DutOutcome::Skipped("not today".into()));
    let durations = [(DutKind::Linux, Duration::from_millis(1500))]
        .into_iter()
        .collect();
    ScenarioOutcome {
        id: "x/y".into(),
        path: PathBuf::from("corpus/scenarios/x/y.pkt"),
        parse_error: None,
        duts,
        diffs: vec![d],
        durations,
        retried: Some("[linux] first run: late\n".into()),
    }
}

#[test]
fn json_has_the_first_difference_and_the_declared_ones() {
    let o = outcome();
    let text = report::json::render(&[o], &DutKind::ALL, &Artifacts::new(), 4000, 1);
    let v: Value = serde_json::from_str(&text).unwrap();
    let s = &v["scenarios"][0];
    assert_eq!(s["passed"], false);
    assert_eq!(s["comparison"], "differ");
    assert_eq!(s["first_run"], "[linux] first run: late\n");
    assert_eq!(s["duts"]["linux"]["duration_ms"], 1500.0);
    assert_eq!(s["duts"]["sim"]["verdict"], "skipped");
    assert_eq!(s["duts"]["stack"]["line"], 4);
    let c = &s["comparisons"][0];
    assert_eq!(c["right"], "stack");
    assert_eq!(c["verdict"], "differ");
    assert_eq!(c["undeclared"], 1);
    let first = &c["first_difference"];
    assert_eq!(first["index"], 2);
    assert_eq!(first["line"], 4);
    assert_eq!(first["field"], "tcp");
    assert!(first["left"].as_str().unwrap().contains("ack 1"));
    assert!(first["right"].as_str().unwrap().contains("ack 2"));
    let declared = c["declared"].as_array().unwrap();
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0]["line"], 3);
    assert!(declared[0]["reason"]
        .as_str()
        .unwrap()
        .contains("documented Linux fact"));
}

#[test]
fn junit_counts_match_and_the_comparison_is_a_testcase() {
    let xml = report::junit::render(&[outcome()]);
    let (elems, top, sum, messages) = junit_counts(&xml);
    let want = Counts {
        tests: 4,
        failures: 2,
        errors: 0,
        skipped: 1,
    };
    assert_eq!((elems, top, sum), (want, want, want), "{xml}");
    assert!(
        messages
            .iter()
            .any(|(c, m)| c == "x/y/vs linux" && m.contains("differ at event 3")),
        "{messages:?}"
    );
    assert!(xml.contains("&lt;x &amp; y&gt;"), "escaped failure text");
}

#[test]
fn xml_escaping_survives_a_parser() {
    let nasty = "a<b>&c\"d'e\u{1}f\ng";
    let doc = format!(
        "<r a=\"{}\">{}</r>",
        report::junit::escape_attr(nasty),
        report::junit::escape(nasty)
    );
    let mut r = quick_xml::Reader::from_str(&doc);
    let Event::Start(e) = r.read_event().unwrap() else {
        panic!("start")
    };
    let a = e.try_get_attribute("a").unwrap().unwrap();
    assert_eq!(
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .unwrap(),
        "a<b>&c\"d'e\u{FFFD}f\ng"
    );
}

#[test]
fn scenario_page_marks_declared_and_undeclared_rows_differently() {
    let o = outcome();
    let page = report::html::scenario_page(&o, Path::new("/r"), &Artifacts::new(), None);
    // One declared and one undeclared row in each of the two ladders.
    assert_eq!(
        page.matches("<rect class=\"declared\"").count(),
        2,
        "{page}"
    );
    assert_eq!(page.matches("<rect class=\"undeclared\"").count(), 2);
    assert!(page.contains("UNDECLARED"));
    assert!(page.contains("+0 &gt; . 1:1(0) ack 1 &lt;x &amp; y&gt;"));
    let index = report::html::index(&[o], &DutKind::ALL);
    assert!(index.contains("DIFFER (stack)"));
    assert!(index.contains("href=\"x_y.html\""));
}

#[test]
fn report_dir_is_cleared_only_when_it_holds_a_report() {
    // A directory that is not a report is refused, untouched.
    let foreign = tempdir("foreign-report");
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    assert!(report::html::clear(&foreign).is_err());
    assert!(foreign.join("notes.txt").exists());
    // An old report: every page and file of it goes.
    let old = tempdir("old-report");
    std::fs::write(
        old.join("index.html"),
        format!(
            "<meta name=\"generator\" content=\"{}\">",
            report::html::GENERATOR
        ),
    )
    .unwrap();
    std::fs::write(old.join("tcp_gone.html"), "stale").unwrap();
    std::fs::create_dir_all(old.join("files")).unwrap();
    std::fs::write(old.join("files/x.pcap"), "stale").unwrap();
    report::html::clear(&old).unwrap();
    let left: Vec<_> = std::fs::read_dir(&old)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from(report::html::MARKER)]);
    // The marker alone makes it a report directory (a run killed before
    // index.html), and missing directories are created.
    std::fs::create_dir_all(old.join("pcap")).unwrap();
    report::html::clear(&old).unwrap();
    assert!(!old.join("pcap").exists());
    report::html::clear(&old.join("missing")).unwrap();
    assert!(old.join("missing").join(report::html::MARKER).exists());
}

#[test]
fn only_failures_confined_to_real_time_duts_get_a_second_run() {
    // The fixture: the stack DUT failed, sim was skipped, the comparison differs.
    let mut o = outcome();
    assert!(suite::worth_a_second_run(&o));
    // A failure in virtual time is deterministic: no second run.
    let failure = Failure {
        line: 4,
        script: "+0 > . 1:1(0) ack 1".into(),
        message: "bad outbound packet".into(),
    };
    o.duts
        .insert(DutKind::Sim, ran(Vec::new(), Verdict::Failed(failure)));
    assert!(!suite::worth_a_second_run(&o));
    // Nor a script that does not parse.
    let mut o = outcome();
    o.parse_error = Some("x/y.pkt:1:1: expected a time".into());
    assert!(!suite::worth_a_second_run(&o));
    // Nor one that passed.
    let mut o = outcome();
    o.duts.clear();
    o.diffs.clear();
    assert!(o.passed());
    assert!(!suite::worth_a_second_run(&o));
}

#[test]
fn html_shows_a_second_run_and_the_notes() {
    // The fixture was run twice; its first run's failure is on its page.
    let mut o = outcome();
    let page = report::html::scenario_page(&o, Path::new("/r"), &Artifacts::new(), None);
    assert!(page.contains("<h2>Second run</h2>"), "{page}");
    assert!(page.contains("[linux] first run: late"));
    assert!(!page.contains("<h2>Notes</h2>"));
    let index = report::html::index(std::slice::from_ref(&o), &DutKind::ALL);
    assert!(index.contains("[second run]"));
    // A DUT's note (an unmapped sysctl) gets a section; no second run, no mark.
    o.retried = None;
    if let Some(DutOutcome::Ran { result, .. }) = o.duts.get_mut(&DutKind::Stack) {
        result
            .notes
            .push("line 3: sysctl net.ipv4.tcp_ecn=1 not modelled".into());
    }
    let page = report::html::scenario_page(&o, Path::new("/r"), &Artifacts::new(), None);
    assert!(page.contains("<h2>Notes</h2>"));
    assert!(page.contains("tcp_ecn=1 not modelled"));
    assert!(!page.contains("<h2>Second run</h2>"));
    let index = report::html::index(&[o], &DutKind::ALL);
    assert!(!index.contains("[second run]"));
}
