#!/usr/bin/env python3
"""Line coverage of the sanitizer-coverage points of a libFuzzer binary, for
the source files whose path contains PATH_SUBSTRING (see README, Fuzzing).
usage: linecov.py BINARY PRINT_COVERAGE_OUTPUT PATH_SUBSTRING [UNCOVERED_OUT]
The binary is a cargo-fuzz build with AddressSanitizer (libFuzzer prints
coverage only with a sanitizer runtime to symbolize); PRINT_COVERAGE_OUTPUT
is what `BINARY -runs=0 -print_coverage=1 CORPUS...` printed.
All PCs come from the binary's __sancov_pcs table (PIE: the PCs are the
addends of its R_X86_64_RELATIVE relocations), grouped into functions by the
table's function-entry flag and symbolized with llvm-symbolizer ($LLVM_SYMBOLIZER); libFuzzer's
-print_coverage=1 output says, per function in the same order, which PCs
(file:line) stayed uncovered. A source line with coverage points is covered
when it has more points in that function than uncovered ones."""
import collections, os, re, struct, subprocess, sys
binary, covfile, want = sys.argv[1:4]
sec = subprocess.run(['readelf', '-SW', binary], capture_output=True, text=True).stdout
for l in sec.splitlines():
    if '__sancov_pcs' in l:
        p = l.split(']')[1].split()
        addr, off, size = int(p[2], 16), int(p[3], 16), int(p[4], 16)
raw = open(binary, 'rb').read()[off:off + size]
vals = struct.unpack('<%dQ' % (size // 8), raw)
rel = {}
for l in subprocess.run(['readelf', '-rW', binary], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if len(f) >= 4 and f[2] == 'R_X86_64_RELATIVE':
        rel[int(f[0], 16)] = int(f[3], 16)
n = size // 16
pcs = [rel.get(addr + 16 * i, vals[2 * i]) for i in range(n)]
flags = [vals[2 * i + 1] for i in range(n)]
# libFuzzer symbolizes GetNextInstructionPc(PC) = PC + 1 on x86.
inp = '\n'.join(hex(pc + 1) for pc in pcs) + '\n'
out = subprocess.run([os.environ.get('LLVM_SYMBOLIZER', 'llvm-symbolizer'), '--no-inlines', '--obj=' + binary],
                     input=inp, capture_output=True, text=True).stdout
blocks = out.strip('\n').split('\n\n')
assert len(blocks) == n, (len(blocks), n)
locs = []
for b in blocks:
    ls = b.split('\n')
    m = re.match(r'(.*):(\d+):\d+$', ls[1])
    locs.append((m.group(1), int(m.group(2))) if m else (ls[1], 0))
funcs = []
for i in range(n):
    if flags[i] & 1 or not funcs:
        funcs.append([])
    funcs[-1].append(i)
def interesting(f):  # libFuzzer's IsInterestingCoverageFile
    return not ('compiler-rt/lib/' in f or '/usr/lib/gcc' in f or '/usr/include' in f or f.startswith('<'))
funcs = [fn for fn in funcs if interesting(locs[fn[0]][0])]
# libFuzzer's report, in the same order
report = []
for l in open(covfile):
    if l.startswith('COVERED_FUNC') or l.startswith('UNCOVERED_FUNC'):
        m = re.match(r'(UN)?COVERED_FUNC: hits: (\d+) edges: (\d+)/(\d+) (.*) (\S+):(\d+)$', l.strip())
        report.append({'cov': m.group(1) is None, 'edges': int(m.group(3)), 'total': int(m.group(4)),
                       'file': m.group(6), 'unc': collections.Counter()})
    elif l.startswith('  UNCOVERED_PC:'):
        f, ln = l.split()[1].rsplit(':', 1)
        report[-1]['unc'][(f, int(ln))] += 1
assert len(report) == len(funcs), (len(report), len(funcs))
lines = {}  # (file, line) -> covered?
edges = collections.Counter()
for fn, r in zip(funcs, report):
    assert len(fn) == r['total'], (len(fn), r)
    tot = collections.Counter(locs[i] for i in fn)
    for loc, k in tot.items():
        cov = r['cov'] and k > r['unc'].get(loc, 0)
        lines[loc] = lines.get(loc, False) or cov
    if want in r['file']:
        edges['covered'] += r['edges']; edges['total'] += r['total']
per = collections.defaultdict(lambda: [0, 0])
for (f, ln), c in lines.items():
    if want in f:
        per[f][1] += 1
        per[f][0] += c
tc = sum(v[0] for v in per.values()); tt = sum(v[1] for v in per.values())
print(f'{"file":60} lines covered/instrumented')
for f in sorted(per):
    c, t = per[f]
    print(f'{f[f.find(want):]:60} {c:5}/{t:<5} {100*c/t:5.1f}%')
print(f'{"total " + want:60} {tc:5}/{tt:<5} {100*tc/tt:5.1f}%')
print(f'edges (PCs) of functions defined under {want}: {edges["covered"]}/{edges["total"]}')
if len(sys.argv) > 4:
    # Every instrumented line none of whose points was reached.
    with open(sys.argv[4], 'w') as o:
        for (f, ln), c in sorted(lines.items()):
            if want in f and not c:
                o.write(f'{f[f.find(want):]}:{ln}\n')
