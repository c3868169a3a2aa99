#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs the runner's self-test (runner_selftest.c) and checks its TAP: each case
# reported alone, the misbehaving ones "not ok" with the reason, the others
# "ok", the skip a TAP skip, and what the failed case made removed.
#   runner_check.py SELFTEST_PROGRAM
import os, re, subprocess, sys

prefix = "mmftest-runner-selftest-%d" % os.getpid()
env = dict(os.environ, MMF_TEST_TIMEOUT="2", MMF_TEST_PREFIX=prefix)
env.pop("CMOCKA_MESSAGE_OUTPUT", None)
p = subprocess.run([sys.argv[1]], env=env, capture_output=True, text=True,
                   timeout=60)
out = p.stdout
results = {}
for line in out.splitlines():
    m = re.match(r"(not ok|ok) (\d+) - (\S+)(?: # SKIP (.*))?$", line)
    if m:
        results[m.group(3)] = (m.group(1), int(m.group(2)), m.group(4))

checks = []
def check(what, good):
    checks.append((what, good))

check("the plan counts 9 cases", out.startswith("1..9\n"))
expect = {
    "passes": "ok", "fails": "not ok", "aborts": "not ok",
    "segfaults": "not ok", "hangs": "not ok", "leaks_an_fd": "not ok",
    "skips": "ok", "leaves_a_map_and_fails": "not ok",
    "passes_after_all": "ok",
}
for n, (name, want) in enumerate(expect.items(), 1):
    got = results.get(name)
    check("%s is reported %s as case %d" % (name, want, n),
          got is not None and got[0] == want and got[1] == n)
check("the skip is a TAP skip with its reason",
      results.get("skips", (0, 0, None))[2] == "a reason given by the case")
check("the failed assertion's message is kept",
      re.search(r"^# .*(2 != 0x3|0x2 != 0x3|2 != 3)", out, re.M) is not None)
check("the abort is named", "crashed: signal 6" in out)
check("the segfault is named", "crashed: signal 11" in out or
      "Segmentation fault" in out)
check("the hang is timed out", "timed out after 2 s" in out)
check("the leaked fd is named", re.search(r"fd \d+ left open by the case "
                                          r"\(/dev/null\)", out) is not None)
made = re.search(r"^# made /dev/shm/(\S+) and (\S+)$", out, re.M)
check("the failed case's map and file are removed",
      made is not None and not os.path.exists("/dev/shm/" + made.group(1))
      and not os.path.exists(made.group(2))
      and ("# removed /dev/shm/" + made.group(1)) in out)
check("the program fails", p.returncode != 0)
check("nothing of the run is left in /dev/shm",
      not [f for f in os.listdir("/dev/shm") if f.startswith(prefix)])

print("1..%d" % len(checks))
for i, (what, good) in enumerate(checks, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, what))
if not all(g for _, g in checks):
    print("# the self-test's output:")
    for line in out.splitlines():
        print("# | " + line)
    sys.stderr.write(p.stderr)
