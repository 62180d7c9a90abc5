#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build: every cargo-fuzz target with the
# sanitizer the infrastructure asks for, plus each target's committed seed
# corpus (corpus/fuzz/<target>/, regressions included) as <target>_seed_corpus.zip.
cd "$SRC/tcpip-harness"
cargo fuzz build -O --fuzz-dir fuzz
# fuzz/ is a workspace member: binaries land in the workspace target dir.
out_dir=target/x86_64-unknown-linux-gnu/release
for t in $(cargo fuzz list --fuzz-dir fuzz); do
    cp "$out_dir/$t" "$OUT/"
    if [ -d "corpus/fuzz/$t" ]; then
        (cd "corpus/fuzz/$t" && find . -type f -print | zip -q -j "$OUT/${t}_seed_corpus.zip" -@)
    fi
done
