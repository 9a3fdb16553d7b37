"""Start-up time of `ivr --help`, `ivr --version` and `ivr validate FILE`, beside bare Python.

Run from the project root: `python benchmarks/bench_startup.py [ROOT]`. Each command runs 5
times in a fresh interpreter; the best wall time and the best CPU time (user + system, of the
child) are printed. CPU time hardly depends on other work on the machine; wall time does.
"""

import resource
import subprocess
import sys
import time

root = sys.argv[1] if len(sys.argv) > 1 else "."
cmds = [
    ["-c", "pass"],
    ["-m", "ivr_engine", "--help"],
    ["-m", "ivr_engine", "--version"],
    ["-m", "ivr_engine", "validate", "flows/acme.yaml"],
]
for c in cmds:
    wall, cpu = [], []
    for _ in range(5):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, *c], capture_output=True, cwd=root)
        w = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall.append(w)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    print(f"wall best {min(wall):.2f} s, CPU best {min(cpu):.2f} s  python {' '.join(c)}")
