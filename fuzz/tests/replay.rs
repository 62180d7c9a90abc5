//! Replays every committed corpus input of every target (plus every crash
//! reproducer under `corpus/fuzz/<target>/regressions/`) through the target
//! functions, on stable, as an ordinary test.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/fuzz")
        .join(target);
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no corpus for {target} under {}",
        dir.display()
    );
    out
}

fn replay(target: &str, f: fn(&[u8])) {
    let files = inputs(target);
    for p in &files {
        let data = std::fs::read(p).expect("read corpus file");
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "{target}: {} fails", p.display());
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

#[test]
fn parse_frame_corpus() {
    replay("parse_frame", fuzz::parse_frame);
}

#[test]
fn script_parse_corpus() {
    replay("script_parse", fuzz::script_parse);
}
