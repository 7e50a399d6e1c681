# SPDX-License-Identifier: GPL-2.0-only
# bench/agent's propagation probe, run inside a pod's network namespace: applies policy
# changes through pseudopodctl (in the store's namespace, via nsenter) and times, for
# each, how long until a fresh TCP connection to the machine's port changes verdict
# (allowed: it connects; denied: the SYN is dropped, the attempt times out). Prints one
# latency in ms per change on stdout.
import socket
import subprocess
import sys
import time

ip, port, n, attempt_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
allow_yaml, deny_yaml = sys.argv[5], sys.argv[6]
apply_cmd = sys.argv[7:]


def allowed():
    s = socket.socket()
    s.settimeout(attempt_s)
    try:
        s.connect((ip, port))
        return True
    except (socket.timeout, TimeoutError):
        return False
    except OSError:
        return True  # refused: the SYN reached the machine, so policy let it through
    finally:
        s.close()


state = allowed()
for i in range(n):
    want = not state
    with open(allow_yaml if want else deny_yaml, "rb") as f:
        body = f.read()
    t0 = time.monotonic()
    subprocess.run(apply_cmd, input=body, check=True, stdout=subprocess.DEVNULL)
    while True:
        t = time.monotonic()
        if allowed() == want:
            break
        if t - t0 > 10:
            sys.exit("verdict did not flip within 10 s")
    print(f"{(t - t0) * 1000:.2f}", flush=True)
    state = want
    time.sleep(0.1)
