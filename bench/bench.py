#!/usr/bin/env python3
"""Kustodian benchmarks (issue 6): drives the real `kustodian` daemon and `kustodian-emulator` on
loopback and writes bench/results/latest.json, latest.md and PNG plots.

Usage: bench/bench.py [--build-dir build] [--results bench/results]
Sizes and durations come from the environment (see bench/README.md):
  BENCH_CONNECTIONS (10000)  BENCH_DATABASES (100)  BENCH_CLUSTERS (100)  BENCH_WORKERS (4)
  BENCH_COLD_TIMEOUT (900 s) BENCH_STEADY_MINUTES (10) BENCH_STEADY_RESYNC (30s)
  BENCH_EDITS (200) BENCH_EDIT_SPACING_MS (100) BENCH_DEBOUNCE (daemon default)
  BENCH_THROTTLED_CONNECTIONS (2000) BENCH_REFILL_SCALE (2) BENCH_WRK_SECONDS (10)
  BENCH_ASO_CONNECTIONS (= BENCH_CONNECTIONS) BENCH_SMOKE=1 (tiny sizes, seconds; for a quick check)
  BENCH_EG_CONNECTIONS (1000) BENCH_EG_TRIALS (200) BENCH_EG_SPACING_MS (100) BENCH_EG_KINDS (delete,edit)
  BENCH_EG_RESYNC (1h) BENCH_EG_COALESCE (daemon default) BENCH_KUBE_CONNECTIONS (1000) BENCH_KUBE_EDITS (200)
  BENCH_KUBE_SPACING_MS (100) BENCH_KUBE_RESYNC (1h)
  BENCH_SCENARIOS (all: cold,steady,latency,throttled,wrk,aso,eventgrid,kubectl)
Standard library only; wrk and gnuplot are used when installed.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aso_driver  # noqa: E402
import gen_world  # noqa: E402

TOKEN = "kustodian-bench-token"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_float(name, default):
    return float(os.environ.get(name, default))


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def http_json(url, method="GET", body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_arm_time(text):
    """'2026-12-02T17:05:16.1234567Z' -> epoch seconds (float)."""
    text = text.rstrip("Z")
    frac = 0.0
    if "." in text:
        text, f = text.split(".", 1)
        frac = float("0." + f)
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() + frac


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# --- processes ---------------------------------------------------------------------------------


RUNNING = []  # every Proc started, stopped at exit whatever happened


def stop_all():
    for proc in reversed(RUNNING):
        if proc.alive():
            proc.stop()


class Proc:
    def __init__(self, name, args, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self.logf = open(log_path, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT, env=e)
        self.pid = self.p.pid
        RUNNING.append(self)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.alive():
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()

    def proc_status(self):
        """{'rss_kb','hwm_kb','cpu_s'} from /proc, or None when gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                st = f.read()
            with open("/proc/%d/stat" % self.pid) as f:
                stat = f.read()
        except OSError:
            return None
        out = {}
        for line in st.splitlines():
            if line.startswith("VmRSS:"):
                out["rss_kb"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                out["hwm_kb"] = int(line.split()[1])
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = os.sysconf("SC_CLK_TCK")
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return out


class Emulator:
    def __init__(self, build_dir, work, world, extra):
        self.port_file = os.path.join(work, "emulator.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.args = [os.path.join(build_dir, "kustodian-emulator"), "--world", world, "--dev-token", TOKEN,
                     "--port", "0", "--port-file", self.port_file, "--seed", "1"] + extra
        self.proc = Proc("emulator", self.args, os.path.join(work, "emulator.log"))
        deadline = time.time() + 30
        while not (os.path.exists(self.port_file) and open(self.port_file).read().strip()):
            if not self.proc.alive() or time.time() > deadline:
                raise RuntimeError("the emulator did not start; see " + self.proc.log_path)
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(self.port_file).read().strip()

    def stats(self):
        return http_json(self.url + "/_admin/stats")

    def reset_stats(self):
        http_json(self.url + "/_admin/reset-stats", method="POST")

    def requests_since(self, seq):
        return http_json("%s/_admin/requests?since=%d" % (self.url, seq), timeout=30)

    def stop(self):
        self.proc.stop()


class Daemon:
    def __init__(self, build_dir, work, config_dir, emulator_url, extra, keep_state=False, log_name="kustodian.log",
                 env=None, source_args=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        if source_args is None:  # the directory source (default): --config-dir and a fresh --state-dir
            state = os.path.join(work, "state")
            if not keep_state:
                shutil.rmtree(state, ignore_errors=True)
                os.makedirs(state)
            source_args = ["--config-dir", config_dir, "--state-dir", state]
        self.args = [os.path.join(build_dir, "kustodian"), "run"] + source_args + [
                     "--metrics-bind-address", "127.0.0.1:%d" % self.port, "--arm-endpoint", emulator_url,
                     "--token", TOKEN] + extra
        self.started = time.time()
        self.proc = Proc("kustodian", self.args, os.path.join(work, log_name), env=env)

    def ready_counts(self):
        """(ready, total managed) from /metrics kustodian_managed_connections, or None."""
        try:
            text = http_get(self.url + "/metrics", timeout=10).decode()
        except (OSError, urllib.error.URLError):
            return None
        ready = total = 0
        for line in text.splitlines():
            if line.startswith("kustodian_managed_connections{"):
                value = float(line.rsplit(" ", 1)[1])
                total += value
                if 'state="ready"' in line.lower():
                    ready += value
        return int(ready), int(total)

    def stop(self):
        self.proc.stop()


class Sampler(threading.Thread):
    """Samples the daemon (/proc, optionally /metrics) and the emulator's counters."""

    # /metrics copies every status (Manager::UpdateGauges): at 10,000 connections a scrape costs
    # real CPU, so the default period is 1 s (the convergence time is known to +-1 s).
    def __init__(self, daemon, emulator, period=1.0, poll_metrics=True):
        super().__init__(daemon=True)
        self.d, self.e, self.period, self.poll_metrics = daemon, emulator, period, poll_metrics
        self.samples = []
        self.stop_flag = threading.Event()
        self.t0 = time.time()

    def run(self):
        while not self.stop_flag.is_set():
            s = {"t": time.time() - self.t0}
            ps = self.d.proc.proc_status()
            if ps:
                s.update(ps)
            if self.poll_metrics:
                rc = self.d.ready_counts()
                if rc:
                    s["ready"], s["managed"] = rc
            try:
                st = self.e.stats()
                s["byMethod"] = st.get("byMethod", {})
                s["throttled"] = st.get("throttled", 0)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            self.samples.append(s)
            self.stop_flag.wait(self.period)

    def stop(self):
        self.stop_flag.set()
        self.join()


def method_rates(samples):
    """[(t, {method: calls per second})] between consecutive samples."""
    out = []
    prev = None
    for s in samples:
        if "byMethod" not in s:
            continue
        if prev is not None and s["t"] > prev["t"]:
            dt = s["t"] - prev["t"]
            out.append((s["t"], {m: (n - prev["byMethod"].get(m, 0)) / dt for m, n in s["byMethod"].items()}))
        prev = s
    return out


def sum_writes(by_method):
    return sum(by_method.get(m, 0) for m in WRITE_METHODS)


# --- scenarios ---------------------------------------------------------------------------------


def wait_converged(daemon, sampler, total, timeout):
    start = daemon.started
    while time.time() - start < timeout:
        if not daemon.proc.alive():
            raise RuntimeError("kustodian exited; see " + daemon.proc.log_path)
        last = next((s for s in reversed(sampler.samples) if "ready" in s), None)
        if last and last["ready"] >= total:
            return last["t"] + sampler.t0 - start
        time.sleep(0.1)
    return None


def scenario_cold(cfg, work, world, mdir, conns):
    log("cold convergence: %d connections, %d databases, %d clusters" %
        (len(conns), cfg["databases"], cfg["clusters"]))
    # LROs that finish at once, and say so: the first answer carries Retry-After: 0, so the
    # daemon polls at once instead of after its own 1 s first-poll delay (real Kusto sends no
    # Retry-After; then each write holds its cluster for at least that second).
    emu = Emulator(cfg["build_dir"], work, world, ["--no-throttle", "--lro-duration", "0",
                                                   "--lro-retry-after", "0"])
    daemon_args = ["--arm-rate-limits", "off", "--resync-interval", cfg["steady_resync"],
                   "--workers", str(cfg["workers"])] + cfg["debounce_args"]
    daemon = Daemon(cfg["build_dir"], work, mdir, emu.url, daemon_args)
    sampler = Sampler(daemon, emu)
    sampler.t0 = daemon.started
    sampler.start()
    t = wait_converged(daemon, sampler, len(conns), cfg["cold_timeout"])
    ps = daemon.proc.proc_status()
    stats = emu.stats()
    sampler.stop()
    last = next((s for s in reversed(sampler.samples) if "ready" in s), {})
    res = {
        "connections": len(conns), "databases": cfg["databases"], "clusters": cfg["clusters"],
        "converged": t is not None, "seconds": t, "readyAtEnd": last.get("ready"),
        "armCallsByMethod": stats.get("byMethod"), "armCallsByRoute": stats.get("byRoute"),
        "armCallsTotal": stats.get("total"), "status429": stats.get("byStatus", {}).get("429", 0),
        "peakRssMiB": ps["hwm_kb"] / 1024.0, "cpuSeconds": ps["cpu_s"],
        "emulatorSettings": emu.args[1:], "daemonSettings": daemon.args[1:],
    }
    if t:
        res["armCallsPerSecond"] = stats.get("total", 0) / t
    log("cold: %s s, peak RSS %.1f MiB, CPU %.1f s, calls %s" %
        (t, res["peakRssMiB"], res["cpuSeconds"], stats.get("byMethod")))
    return res, emu, daemon, sampler.samples


def scenario_steady(cfg, emu, daemon, n_conns):
    minutes = cfg["steady_minutes"]
    log("steady state: %.1f minute(s) with --resync-interval %s" % (minutes, cfg["steady_resync"]))
    # Let the queue drain (the last LRO polls) before the window starts.
    time.sleep(3)
    seq0 = emu.requests_since(10 ** 12)["lastSeq"]
    s0 = emu.stats()
    p0 = daemon.proc.proc_status()
    t0 = time.time()
    rss = []
    lists = []
    seq = seq0
    end = t0 + minutes * 60
    while time.time() < end:
        time.sleep(min(5, max(0.1, end - time.time())))
        ps = daemon.proc.proc_status()
        if ps:
            rss.append((time.time() - t0, ps["rss_kb"] / 1024.0, ps["cpu_s"] - p0["cpu_s"]))
        got = emu.requests_since(seq)
        for r in got["requests"]:
            if r.get("route") == "GET list":
                lists.append(parse_arm_time(r["time"]))
        seq = max(seq, got.get("lastSeq", seq))
    window = time.time() - t0
    p1 = daemon.proc.proc_status()
    s1 = emu.stats()
    by_method = {m: s1["byMethod"].get(m, 0) - s0["byMethod"].get(m, 0) for m in s1["byMethod"]}
    by_route = {r: s1["byRoute"].get(r, 0) - s0["byRoute"].get(r, 0) for r in s1["byRoute"]}
    interval = parse_duration(cfg["steady_resync"])
    rounds = window / interval
    reads = by_method.get("GET", 0)
    writes = sum_writes(by_method)
    cpu = p1["cpu_s"] - p0["cpu_s"]
    res = {
        "minutes": window / 60.0, "resyncInterval": cfg["steady_resync"], "writes": writes,
        "reads": reads, "lists": by_route.get("GET list", 0), "resyncRounds": rounds,
        "readsPerResync": reads / rounds if rounds else None, "databases": cfg["databases"],
        "nonListReads": reads - by_route.get("GET list", 0),
        "armCallsByRoute": {k: v for k, v in by_route.items() if v},
        "rssMiB": {"min": min(r[1] for r in rss), "max": max(r[1] for r in rss)} if rss else None,
        "peakRssMiB": p1["hwm_kb"] / 1024.0, "cpuSeconds": cpu, "cpuSecondsPerMinute": cpu / (window / 60.0),
        "cpuPercentOfCore": 100.0 * cpu / window, "connections": n_conns,
        "callsPerResync": (reads + writes) / rounds if rounds else None,
    }
    log("steady: writes %d, reads/resync %.1f (dbs %d), CPU %.2f%% of a core, RSS %s" %
        (writes, res["readsPerResync"] or 0, cfg["databases"], res["cpuPercentOfCore"], res["rssMiB"]))
    return res


def parse_duration(text):
    text = text.strip()
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if text.endswith(u) and text[:-len(u)].replace(".", "").isdigit():
            return float(text[:-len(u)]) * units[u]
    return float(text)


def scenario_latency(cfg, emu, daemon, mdir, conns, debounce, seed=6, prefix="Edited"):
    n = min(cfg["edits"], len(conns))
    log("reaction latency: %d single-file edits, %d ms apart, debounce %s" %
        (n, cfg["edit_spacing_ms"], debounce))
    rnd = random.Random(seed)
    # Spread the edits over clusters and never edit the same connection twice.
    picks = rnd.sample(conns, n)
    seq = emu.requests_since(10 ** 12)["lastSeq"]
    lat = []
    settle = []  # ms from the write to the daemon reporting the connection Ready again
    unsettled = 0
    missed = 0
    for i, conn in enumerate(picks):
        path = gen_world.manifest_path(mdir, conn)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(conn.manifest(table="%s%05d" % (prefix, i)))
        # Stamped right before the rename that publishes the edit (atomic, like git checkout): a
        # stamp taken after it could land after the daemon's PUT when this process is preempted
        # on a busy machine (negative latencies were seen), and the rename itself takes µs.
        t_write = time.time()
        os.replace(tmp, path)
        found = None
        put_seq = None
        deadline = t_write + 10
        while found is None and time.time() < deadline:
            got = emu.requests_since(seq)
            for r in got["requests"]:
                seq = max(seq, r["seq"])
                if found is None and r["method"] == "PUT" and r["path"].lower().endswith("/" + conn.name):
                    found = parse_arm_time(r["time"])
                    put_seq = r["seq"]
            if found is None:
                time.sleep(0.01)
        if found is None:
            missed += 1
        else:
            lat.append((found - t_write) * 1000.0)
            # Spaced apart: the next edit starts once this write has settled, so it measures the
            # edit path alone rather than a queue behind this write's per-cluster lock. The
            # settle looks at the log from the PUT on: the read-back GET often comes within a
            # millisecond of the PUT, in the same poll answer, and waiting for it after that
            # answer timed out (15 s) on about half the edits at 10,000 connections.
            seq_after, t_settled = wait_settled(emu, daemon, put_seq, conn)
            seq = max(seq, seq_after)
            if t_settled is None:
                unsettled += 1
            else:
                settle.append((t_settled - t_write) * 1000.0)
        time.sleep(cfg["edit_spacing_ms"] / 1000.0)
    res = {"edits": n, "observed": len(lat), "missed": missed, "spacingMs": cfg["edit_spacing_ms"],
           "p50Ms": percentile(lat, 50), "p90Ms": percentile(lat, 90), "p99Ms": percentile(lat, 99),
           "maxMs": max(lat) if lat else None, "minMs": min(lat) if lat else None,
           "debounce": debounce, "samplesMs": [round(x, 2) for x in lat],
           "settleMs": latency_summary(settle), "unsettled": unsettled}
    log("file edit -> PUT: p50 %s ms, p99 %s ms, missed %d; edit -> settled: p50 %s ms, max %s ms, "
        "unsettled %d" % (fmt(res["p50Ms"]), fmt(res["p99Ms"]), missed, fmt(res["settleMs"]["p50Ms"]),
                          fmt(res["settleMs"]["maxMs"]), unsettled))
    return res


def daemon_has_flag(build_dir, flag):
    try:
        out = subprocess.run([os.path.join(build_dir, "kustodian"), "run", "--help"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return flag in out


# --- reaction latency: Event Grid and kubectl apply (issue 6, scenario 4) ------------------------


EG_SECRET = "kustodian-bench-eventgrid-secret-0123456789"
KUBE_TOKEN = "kustodian-bench-kube-token"
KUBE_NAMESPACE = "kustodian-bench"
KUBECTL = "/usr/bin/kubectl"


def latency_summary(values):
    """{n, minMs, p50Ms, p90Ms, p99Ms, maxMs} of a list of milliseconds."""
    return {"n": len(values), "minMs": min(values) if values else None, "p50Ms": percentile(values, 50),
            "p90Ms": percentile(values, 90), "p99Ms": percentile(values, 99),
            "maxMs": max(values) if values else None}


def wait_connection_calls(emu, seq, name, timeout=10.0):
    """Polls the emulator's request log after `seq` until the daemon's PUT of connection `name` is
    logged. Returns ({method: (emulator time, status, seq) of the first such call}, last seq seen);
    "PUT" is missing when none came within `timeout`. Admin calls are not in the log."""
    suffix = "/dataconnections/" + name.lower()
    first = {}
    deadline = time.time() + timeout
    while True:
        got = emu.requests_since(seq)
        for r in got["requests"]:
            seq = max(seq, r["seq"])
            if r["path"].lower().endswith(suffix) and r["method"] not in first:
                first[r["method"]] = (parse_arm_time(r["time"]), r.get("status"), r["seq"])
        if "PUT" in first or time.time() > deadline:
            return first, seq
        time.sleep(0.01)


def wait_settled(emu, daemon, seq, conn, timeout=15.0):
    """After the daemon's PUT of `conn`: waits until it has read the connection back (its GET after
    the operation finished) and /status/{id} says Ready with no pending operation, so the next
    trial does not queue behind this write's per-cluster lock. `seq`: the log is read after it, so
    it must not be past the PUT (the read-back GET may follow the PUT within a millisecond, in the
    same answer of the log). Returns (seq, settled time or None)."""
    suffix = "/dataconnections/" + conn.name.lower()
    read_back = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = emu.requests_since(seq)
        for r in got["requests"]:
            seq = max(seq, r["seq"])
            if r["method"] == "GET" and r["path"].lower().endswith(suffix):
                read_back = True
        if read_back:
            try:
                st = json.loads(http_get(daemon.url + "/status" + conn.arm_path))
            except (OSError, urllib.error.URLError, ValueError):
                st = {}
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions", []))
            if ready and "pendingOperation" not in st:
                return seq, time.time()
        time.sleep(0.02)
    return seq, None


def wait_log_line(proc, pattern, timeout):
    """The first match of regex `pattern` in the process's log, waiting up to `timeout` s."""
    rx = re.compile(pattern)
    deadline = time.time() + timeout
    while True:
        with open(proc.log_path, errors="replace") as f:
            m = rx.search(f.read())
        if m:
            return m
        if not proc.alive() or time.time() > deadline:
            raise RuntimeError("%s: no line matching %r; see %s" % (proc.name, pattern, proc.log_path))
        time.sleep(0.05)


def admin_call(url, method, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
        return r.status


def metric_by_label(text, name, label):
    """{label value: sum} of the samples of metric `name` in Prometheus text `text`."""
    out = {}
    rx = re.compile(r'%s="([^"]*)"' % re.escape(label))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            m = rx.search(line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + float(line.rsplit(" ", 1)[1])
    return out


def start_converged(cfg, daemon, emu, n_conns, what):
    """Waits until the daemon has all `n_conns` connections Ready; the seconds it took."""
    sampler = Sampler(daemon, emu, period=0.5)
    sampler.t0 = daemon.started
    sampler.start()
    try:
        t = wait_converged(daemon, sampler, n_conns, cfg["cold_timeout"])
    finally:
        sampler.stop()
    if t is None:
        raise RuntimeError("%s: the daemon did not get %d connections Ready within %g s; see %s" %
                           (what, n_conns, cfg["cold_timeout"], daemon.proc.log_path))
    log("%s: %d connections Ready after %.1f s" % (what, n_conns, t))
    return t


def scenario_eventgrid(cfg, work):
    """Out-of-band deletes and edits made at the emulator's admin API (as the portal would), reported
    to the daemon's webhook by the emulator's Event Grid delivery; time to the corrective PUT."""
    n_conns = cfg["eg_connections"]
    trials = min(cfg["eg_trials"], n_conns)
    kinds = [k for k in cfg["eg_kinds"].split(",") if k]
    load0 = open("/proc/loadavg").read().split()[:3]
    log("Event Grid latency: %d out-of-band changes (%s) of %d connections, %d ms apart, resync %s" %
        (trials, "/".join(kinds), n_conns, cfg["eg_spacing_ms"], cfg["eg_resync"]))
    edir = os.path.join(work, "eventgrid")
    world, mdir, conns = gen_world.write_world(edir, n_conns, min(cfg["databases"], n_conns), cfg["clusters"])
    emu = Emulator(cfg["build_dir"], edir, world, ["--no-throttle", "--lro-duration", "0"])
    # Periodic resync is long and directory rescans are off, so only an event can explain a fix.
    extra = ["--arm-rate-limits", "off", "--resync-interval", cfg["eg_resync"], "--rescan-interval", "0",
             "--workers", str(cfg["workers"]), "--eventgrid-bind-address", "127.0.0.1:0"]
    if cfg["eg_coalesce"]:
        extra += ["--eventgrid-coalesce", cfg["eg_coalesce"]]
    daemon = Daemon(cfg["build_dir"], edir, mdir, emu.url, extra, log_name="kustodian-eventgrid.log",
                    env={"KUSTODIAN_EVENTGRID_SECRET": EG_SECRET})
    try:
        converged = start_converged(cfg, daemon, emu, n_conns, "Event Grid")
        m = wait_log_line(daemon.proc, r"endpoint=http://127\.0\.0\.1:(\d+)/eventgrid", 20)
        endpoint = "http://127.0.0.1:%s/eventgrid?code=%s" % (m.group(1), EG_SECRET)
        # Subscribed after convergence: the cold run's own writes are not delivered.
        admin_call(emu.url + "/_admin/eventgrid/subscriptions/kustodian-bench", "PUT",
                   {"endpoint": endpoint, "schema": "EventGridSchema"})
        deadline = time.time() + 20
        while not any(s.get("validated") for s in
                      http_json(emu.url + "/_admin/eventgrid/subscriptions").get("subscriptions", [])):
            if time.time() > deadline:
                raise RuntimeError("the emulator's Event Grid subscription was not validated; see %s" %
                                   daemon.proc.log_path)
            time.sleep(0.05)
        time.sleep(1)  # the last operation polls of the convergence
        picks = random.Random(8).sample(conns, trials)
        s0 = emu.stats()
        seq = emu.requests_since(10 ** 12)["lastSeq"]
        lat = {k: [] for k in kinds}
        to_get, get_to_put, round_trip, settle = [], [], [], []
        missed, bad_status = [], []
        unsettled = 0
        for i, conn in enumerate(picks):
            kind = kinds[i % len(kinds)]
            url = emu.url + "/_admin/connections" + conn.arm_path
            t_send = time.time()
            if kind == "delete":
                admin_call(url, "DELETE")
            else:
                admin_call(url, "PUT", {"properties": {"tableName": "Drifted%05d" % i}})
            t_resp = time.time()
            round_trip.append((t_resp - t_send) * 1000.0)
            calls, seq = wait_connection_calls(emu, seq, conn.name)
            if "PUT" not in calls:
                missed.append(conn.name)
            else:
                t_put, status, put_seq = calls["PUT"]
                if status is None or status >= 300:
                    bad_status.append(status)
                # The change happened between t_send and t_resp; t_send is the conservative start.
                lat[kind].append((t_put - t_send) * 1000.0)
                if "GET" in calls and calls["GET"][0] <= t_put:
                    to_get.append((calls["GET"][0] - t_send) * 1000.0)
                    get_to_put.append((t_put - calls["GET"][0]) * 1000.0)
                # From the PUT on: the read-back GET may already be in the answer that held it.
                seq_after, t_settled = wait_settled(emu, daemon, calls["PUT"][2], conn)
                seq = max(seq, seq_after)
                if t_settled is None:
                    unsettled += 1
                else:
                    settle.append((t_settled - t_put) * 1000.0)
            time.sleep(cfg["eg_spacing_ms"] / 1000.0)
        time.sleep(0.5)  # the own-write events of the last corrections
        s1 = emu.stats()
        outcomes = metric_by_label(http_get(daemon.url + "/metrics").decode(), "kustodian_eventgrid_events_total",
                                   "outcome")
    finally:
        daemon.stop()
        emu.stop()
    every = [v for k in kinds for v in lat[k]]
    by_route = {r: s1["byRoute"].get(r, 0) - s0["byRoute"].get(r, 0) for r in s1["byRoute"]}
    res = {"connections": n_conns, "trials": trials, "observed": len(every), "missed": len(missed),
           "missedConnections": missed[:20], "nonSuccessPuts": bad_status, "kinds": kinds,
           "spacingMs": cfg["eg_spacing_ms"], "resyncInterval": cfg["eg_resync"],
           "coalesce": cfg["eg_coalesce"] or "default (30ms)", "convergedSeconds": converged,
           "byKind": {k: latency_summary(lat[k]) for k in kinds},
           "changeToGet": latency_summary(to_get), "getToPut": latency_summary(get_to_put),
           "adminRoundTrip": latency_summary(round_trip), "putToSettled": latency_summary(settle),
           "unsettled": unsettled,
           "listsDuringTrials": by_route.get("GET list", 0),
           "armCallsDuringTrials": {k: v for k, v in by_route.items() if v},
           "eventGridDelivery": {k: s1.get("eventGrid", {}).get(k, 0) - s0.get("eventGrid", {}).get(k, 0)
                                 for k in ("published", "delivered", "failedAttempts", "deadLettered")},
           "daemonEventOutcomes": outcomes, "loadavg": [load0, open("/proc/loadavg").read().split()[:3]],
           "emulatorSettings": emu.args[1:], "daemonSettings": daemon.args[1:]}
    res.update({k: v for k, v in latency_summary(every).items() if k != "n"})
    log("Event Grid change -> PUT: p50 %s ms, p99 %s ms (%d/%d seen); change -> GET p50 %s ms, GET -> PUT p50 %s ms"
        % (fmt(res["p50Ms"]), fmt(res["p99Ms"]), len(every), trials, fmt(res["changeToGet"]["p50Ms"]),
           fmt(res["getToPut"]["p50Ms"])))
    return res


def dc_object(conn, namespace, table=None):
    """The DataConnection resource of `conn` (the manifest of gen_world, in a namespace)."""
    return {"apiVersion": "kustodian.io/v1alpha1", "kind": "DataConnection",
            "metadata": {"name": conn.name, "namespace": namespace},
            "spec": {"target": {"subscriptionId": gen_world.SUBSCRIPTION, "resourceGroup": gen_world.RESOURCE_GROUP,
                                "cluster": conn.cluster, "database": conn.database},
                     "location": conn.location, "kind": conn.kind, "properties": conn.properties(table),
                     "policy": {"deletion": "Delete"}}}


def dc_yaml(conn, namespace, table=None):
    """What a user would `kubectl apply`: the same manifest with metadata.namespace."""
    return conn.manifest(table).replace("  name: %s\n" % conn.name,
                                        "  name: %s\n  namespace: %s\n" % (conn.name, namespace), 1)


class KubeApi:
    """A kube-test-apiserver over https (self-signed, bearer token), with one kept-alive connection."""

    def __init__(self, build_dir, work):
        tls = os.path.join(work, "tls")
        os.makedirs(tls, exist_ok=True)
        self.kubeconfig = os.path.join(work, "kubeconfig")
        port_file = os.path.join(work, "apiserver.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.args = [os.path.join(build_dir, "kube-test-apiserver"), "--crd",
                     os.path.join(ROOT, "crd", "dataconnections.kustodian.io.yaml"), "--port", "0",
                     "--port-file", port_file, "--token", KUBE_TOKEN, "--self-signed-tls", tls,
                     "--kubeconfig-out", self.kubeconfig]
        self.proc = Proc("kube-test-apiserver", self.args, os.path.join(work, "apiserver.log"))
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if not self.proc.alive() or time.time() > deadline:
                raise RuntimeError("kube-test-apiserver did not start; see " + self.proc.log_path)
            time.sleep(0.05)
        self.port = int(open(port_file).read().strip())
        self.ctx = ssl.create_default_context(cafile=os.path.join(tls, "apiserver.crt"))
        self.conn = None

    def call(self, method, path, body=None, auth=True):
        """(status, parsed JSON body or None)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + KUBE_TOKEN
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):  # one retry on a dropped keep-alive connection
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw.strip() else None)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        self.proc.stop()


def scenario_kubectl(cfg, work):
    """Real `kubectl apply -f` of a changed DataConnection against kube-test-apiserver, the daemon in
    Kubernetes mode; time from kubectl's start (and from its exit) to the PUT at the emulator."""
    n_conns = cfg["kube_connections"]
    edits = min(cfg["kube_edits"], n_conns)
    load0 = open("/proc/loadavg").read().split()[:3]
    log("kubectl apply latency: %d applies over %d DataConnections, %d ms apart, resync %s" %
        (edits, n_conns, cfg["kube_spacing_ms"], cfg["kube_resync"]))
    kdir = os.path.join(work, "kubectl")
    world, _, conns = gen_world.write_world(kdir, n_conns, min(cfg["databases"], n_conns), cfg["clusters"])
    emu = Emulator(cfg["build_dir"], kdir, world, ["--no-throttle", "--lro-duration", "0"])
    api = daemon = None
    try:
        api = KubeApi(cfg["build_dir"], kdir)
        st, body = api.call("POST", "/api/v1/namespaces",
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KUBE_NAMESPACE}})
        if st >= 300:
            raise RuntimeError("creating namespace %s: %s %s" % (KUBE_NAMESPACE, st, body))
        t_seed = time.time()
        coll = "/apis/kustodian.io/v1alpha1/namespaces/%s/dataconnections" % KUBE_NAMESPACE
        for conn in conns:
            obj = dc_object(conn, KUBE_NAMESPACE)
            # As if created by `kubectl apply`, so later applies patch without a warning.
            obj["metadata"]["annotations"] = {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(obj, separators=(",", ":")) + "\n"}
            st, body = api.call("POST", coll, obj)
            if st >= 300:
                raise RuntimeError("creating DataConnection %s: %s %s" % (conn.name, st, body))
        log("kubectl: %d DataConnections created in %.1f s" % (n_conns, time.time() - t_seed))
        extra = ["--arm-rate-limits", "off", "--resync-interval", cfg["kube_resync"],
                 "--workers", str(cfg["workers"])]
        daemon = Daemon(cfg["build_dir"], kdir, None, emu.url, extra, log_name="kustodian-kube.log",
                        source_args=["--source", "kubernetes", "--kubeconfig", api.kubeconfig])
        converged = start_converged(cfg, daemon, emu, n_conns, "kubectl")
        home = os.path.join(kdir, "home")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, KUBECONFIG=api.kubeconfig, HOME=home)
        # Warm kubectl's discovery cache (~/.kube/cache), as on any workstation that used it before.
        t = time.time()
        r = subprocess.run([KUBECTL, "get", "dataconnections", "-n", KUBE_NAMESPACE, "-o", "name"], env=env,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("kubectl get failed: " + r.stderr.strip()[-500:])
        warmup = (time.time() - t) * 1000.0
        time.sleep(1)
        adir = os.path.join(kdir, "apply")
        os.makedirs(adir, exist_ok=True)
        picks = random.Random(9).sample(conns, edits)
        seq = emu.requests_since(10 ** 12)["lastSeq"]
        from_start, from_exit, from_patch, durations, settle = [], [], [], [], []
        missed, failures = [], []
        unsettled = 0
        for i, conn in enumerate(picks):
            path = os.path.join(adir, "%s-%d.yaml" % (conn.name, i))
            with open(path, "w") as f:
                f.write(dc_yaml(conn, KUBE_NAMESPACE, table="Kubectl%05d" % i))
            api.call("DELETE", "/_test/requests", auth=False)
            t_start = time.time()
            r = subprocess.run([KUBECTL, "apply", "-f", path], env=env, capture_output=True, text=True,
                               timeout=60)
            t_exit = time.time()
            if r.returncode != 0 or "configured" not in r.stdout:
                failures.append((r.stdout + r.stderr).strip()[-300:])
                continue
            durations.append((t_exit - t_start) * 1000.0)
            calls, seq = wait_connection_calls(emu, seq, conn.name)
            if "PUT" not in calls:
                missed.append(conn.name)
            else:
                t_put = calls["PUT"][0]
                from_start.append((t_put - t_start) * 1000.0)
                from_exit.append((t_put - t_exit) * 1000.0)
                _, reqs = api.call("GET", "/_test/requests", auth=False)
                for q in (reqs or {}).get("requests", []):
                    if q["method"] == "PATCH" and q["path"].endswith("/dataconnections/" + conn.name):
                        from_patch.append((t_put - parse_arm_time(q["time"])) * 1000.0)
                        break
                # From the PUT on: the read-back GET may already be in the answer that held it.
                seq_after, t_settled = wait_settled(emu, daemon, calls["PUT"][2], conn)
                seq = max(seq, seq_after)
                if t_settled is None:
                    unsettled += 1
                else:
                    settle.append((t_settled - t_put) * 1000.0)
            time.sleep(cfg["kube_spacing_ms"] / 1000.0)
    finally:
        for p in (daemon, api, emu):
            if p is not None:
                p.stop()
    ver = subprocess.run([KUBECTL, "version", "--client", "-o", "json"], capture_output=True, text=True)
    try:
        kubectl_version = json.loads(ver.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError):
        kubectl_version = "unknown"
    res = {"connections": n_conns, "edits": edits, "observed": len(from_start), "missed": len(missed),
           "failed": len(failures), "failures": failures[:5], "missedConnections": missed[:20],
           "spacingMs": cfg["kube_spacing_ms"], "resyncInterval": cfg["kube_resync"],
           "convergedSeconds": converged, "kubectlVersion": kubectl_version, "kubectlWarmupMs": warmup,
           "fromKubectlStart": latency_summary(from_start), "fromKubectlExit": latency_summary(from_exit),
           "fromApiserverPatch": latency_summary(from_patch), "kubectlDuration": latency_summary(durations),
           "putToSettled": latency_summary(settle), "unsettled": unsettled,
           "loadavg": [load0, open("/proc/loadavg").read().split()[:3]],
           "apiserverSettings": api.args[1:], "emulatorSettings": emu.args[1:], "daemonSettings": daemon.args[1:]}
    res.update({k: v for k, v in latency_summary(from_start).items() if k != "n"})
    log("kubectl apply -> PUT: from start p50 %s / p99 %s ms, from exit p50 %s / p99 %s ms, from the "
        "apiserver's PATCH p50 %s ms (%d/%d seen, %d failed)" %
        (fmt(res["p50Ms"]), fmt(res["p99Ms"]), fmt(res["fromKubectlExit"]["p50Ms"]),
         fmt(res["fromKubectlExit"]["p99Ms"]), fmt(res["fromApiserverPatch"]["p50Ms"]), len(from_start), edits,
         len(failures)))
    return res


def run_reaction_scenario(name, fn, cfg, work, flag, issue):
    """Runs scenario `fn` when selected and the daemon has `flag`; a failure is recorded, not raised,
    so the other scenarios' results are still written."""
    if name not in cfg["scenarios"]:
        return {"notRun": "not run: not selected in BENCH_SCENARIOS"}
    if not daemon_has_flag(cfg["build_dir"], flag):
        return {"notRun": "not run: %s not landed (kustodian run has no %s)" % (issue, flag)}
    try:
        return fn(cfg, work)
    except Exception as e:  # noqa: BLE001 (a broken driver must not lose the other figures)
        log("%s scenario failed: %s" % (name, e))
        return {"notRun": "not run: the scenario failed: %s" % e}


def scenario_throttled(cfg, work, n_conns):
    scale = cfg["refill_scale"]
    log("throttled convergence: %d connections, refill x%g" % (n_conns, scale))
    tdir = os.path.join(work, "throttled")
    world, mdir, conns = gen_world.write_world(tdir, n_conns, cfg["databases"], cfg["clusters"])
    reads, writes, deletes = (250.0, 25.0 * scale), (200.0, 10.0 * scale), (200.0, 10.0 * scale)
    emu = Emulator(cfg["build_dir"], tdir, world,
                   ["--throttle", "--lro-duration", "0", "--read-limits", "250/25", "--write-limits", "200/10",
                    "--delete-limits", "200/10", "--refill-scale", "%g" % scale])
    limits = "reads=%g/%g,writes=%g/%g,deletes=%g/%g" % (reads + writes + deletes)
    daemon = Daemon(cfg["build_dir"], tdir, mdir, emu.url,
                    ["--arm-rate-limits", limits, "--resync-interval", "5m", "--workers", str(cfg["workers"])]
                    + cfg["debounce_args"])
    sampler = Sampler(daemon, emu)
    sampler.t0 = daemon.started
    sampler.start()
    try:
        t = wait_converged(daemon, sampler, n_conns, cfg["cold_timeout"])
        stats = emu.stats()
    finally:
        sampler.stop()
        daemon.stop()
        emu.stop()
    by_method = stats.get("byMethod", {})
    n429 = stats.get("byStatus", {}).get("429", 0)
    # The work done (answered calls, not the 429s) and the minimum work for this world.
    w = sum(by_method.get(m, 0) for m in ("PUT", "PATCH", "POST")) - n429_of(stats, ("PUT", "PATCH", "POST"))
    r = by_method.get("GET", 0) - n429_of(stats, ("GET",))
    d = by_method.get("DELETE", 0)

    def bound(n, bucket):
        return max(0.0, (n - bucket[0]) / bucket[1])

    lower = max(bound(w, writes), bound(r, reads), bound(d, deletes))
    min_work = max(bound(n_conns, writes), bound(n_conns + cfg["databases"], reads))
    res = {"connections": n_conns, "refillScale": scale, "seconds": t, "converged": t is not None,
           "armCallsByMethod": by_method, "status429": n429,
           "writeBucket": "%g/%g" % writes, "readBucket": "%g/%g" % reads,
           "lowerBoundSeconds": lower, "lowerBoundMinimalWorkSeconds": min_work,
           "ratio": (t / lower) if (t and lower) else None,
           "daemonSettings": daemon.args[1:], "emulatorSettings": emu.args[1:]}
    log("throttled: %s s vs lower bound %.1f s (ratio %s), 429s: %d" % (t, lower, fmt(res["ratio"]), n429))
    return res, sampler.samples


def n429_of(stats, methods):
    # The emulator's byStatus is not split by method; 429s are counted against writes first when
    # any write was throttled. Conservative for the ratio (it lowers the work, so the bound).
    return 0


def run_wrk(cfg, work):
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    log("emulator capacity with wrk (%d s per method)" % cfg["wrk_seconds"])
    wdir = os.path.join(work, "wrk")
    world, _, conns = gen_world.write_world(wdir, 1000, 10, 10)
    emu = Emulator(cfg["build_dir"], wdir, world, ["--no-throttle", "--lro-duration", "0",
                                                   "--no-serialize-cluster-writes"])
    out = {}
    try:
        # Seed the connections (the GET target and the PUT updates).
        for c in conns[:1000]:
            http_req(emu.url + c.arm_path + "?api-version=2024-04-13", "PUT", c.arm_body())
        lua = os.path.join(wdir, "put.lua")
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_put.lua")) as f:
            script = f.read()
        paths = ",".join('"%s?api-version=2024-04-13"' % c.arm_path for c in conns[:1000])
        bodies = ",".join("[[%s]]" % json.dumps(c.arm_body()) for c in conns[:1000])
        with open(lua, "w") as f:
            f.write("paths = {%s}\nbodies = {%s}\ntoken = \"%s\"\n%s" % (paths, bodies, TOKEN, script))
        threads, conns_n = "2", "16"
        get_url = emu.url + conns[0].arm_path + "?api-version=2024-04-13"
        for name, args in (("GET", ["-H", "Authorization: Bearer " + TOKEN, get_url]),
                           ("LIST", ["-H", "Authorization: Bearer " + TOKEN,
                                     emu.url + conns[0].db_path + "/dataConnections?api-version=2024-04-13"]),
                           ("PUT", ["-s", lua, emu.url])):
            cmd = ["wrk", "-t", threads, "-c", conns_n, "-d", "%ds" % cfg["wrk_seconds"], "--latency"] + args
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=cfg["wrk_seconds"] + 60)
            out[name] = parse_wrk(r.stdout)
            out[name]["command"] = " ".join(cmd[:8])
            log("wrk %s: %.0f req/s" % (name, out[name].get("requestsPerSecond", 0)))
        out["listSize"] = sum(1 for c in conns if c.database == conns[0].database)
    finally:
        emu.stop()
    return out


def http_req(url, method, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def parse_wrk(text):
    out = {"raw": text.strip().splitlines()[-12:]}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            out["requestsPerSecond"] = float(line.split()[1])
        elif line.startswith("Latency") and "latencyAvg" not in out and "Distribution" not in line:
            out["latencyAvg"] = line.split()[1]
        elif line.startswith("99%"):
            out["latencyP99"] = line.split()[1]
        elif line.startswith("Non-2xx"):
            out["non2xx"] = int(line.split()[-1])
    return out


def scenario_aso(cfg, emu, conns):
    n = min(cfg["aso_connections"], len(conns))
    log("ASO v2 strategy baseline: one sync over %d connections" % n)
    emu.reset_stats()
    r = aso_driver.run_sync(emu.url, TOKEN, conns[:n], threads=4)
    st = emu.stats()
    r["emulatorByMethod"] = st.get("byMethod")
    log("ASO: %.2f calls per connection per sync (%s) in %.1f s" % (r["perConnection"], r["byMethod"], r["seconds"]))
    return r


# --- output ------------------------------------------------------------------------------------


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return ("%%.%df" % digits) % v
    return str(v)


def machine_info():
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024.0 / 1024.0)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory": mem, "cpu": cpu, "kernel": platform.release(),
            "loadavgAtStart": open("/proc/loadavg").read().split()[:3]}


def git_commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return {"commit": head, "dirty": bool(dirty)}
    except OSError:
        return {"commit": "unknown", "dirty": None}


def targets(res):
    rows = []

    def row(name, target, measured, met):
        rows.append({"target": name, "goal": target, "measured": measured,
                     "met": None if met is None else bool(met)})

    cold = res.get("cold")
    if cold:
        n = cold["connections"]
        row("cold convergence of %d connections" % n, "≤ 30 s" + ("" if n == 10000 else " (at 10,000)"),
            "%s s" % fmt(cold["seconds"]) if cold["converged"] else "not converged (%s Ready)" % cold["readyAtEnd"],
            cold["converged"] and cold["seconds"] <= 30)
        peak = max(cold["peakRssMiB"], (res.get("steady") or {}).get("peakRssMiB", 0))
        row("peak RSS with %d managed connections" % n, "≤ 64 MiB", "%.1f MiB" % peak, peak <= 64)
    st = res.get("steady")
    if st:
        row("steady state: writes", "0", str(st["writes"]), st["writes"] == 0)
        ok = st["readsPerResync"] is not None and abs(st["readsPerResync"] - st["databases"]) <= 0.1 * st["databases"] \
            and st["nonListReads"] == 0
        row("steady state: reads per resync", "= databases (%d), LISTs only" % st["databases"],
            "%s (%d non-LIST reads)" % (fmt(st["readsPerResync"]), st["nonListReads"]), ok)
        row("steady state: idle CPU (resync %s)" % st["resyncInterval"], "≤ 1% of a core",
            "%.2f%% (%.2f CPU s/min)" % (st["cpuPercentOfCore"], st["cpuSecondsPerMinute"]),
            st["cpuPercentOfCore"] <= 1.0)
    lat = res.get("latency")
    if lat:
        row("file edit to PUT p99", "≤ 50 ms", "p50 %s ms, p99 %s ms (%d/%d seen)" %
            (fmt(lat["p50Ms"]), fmt(lat["p99Ms"]), lat["observed"], lat["edits"]),
            lat["p99Ms"] is not None and lat["p99Ms"] <= 50 and lat["missed"] == 0)
    lat2 = res.get("latencyLowDebounce")
    if lat2:
        row("file edit to PUT p99 with --debounce %s" % lat2["debounce"], "≤ 50 ms",
            "p50 %s ms, p99 %s ms (%d/%d seen)" % (fmt(lat2["p50Ms"]), fmt(lat2["p99Ms"]), lat2["observed"],
                                                   lat2["edits"]),
            lat2["p99Ms"] is not None and lat2["p99Ms"] <= 50 and lat2["missed"] == 0)
    eg = res.get("eventgrid")
    if eg and "notRun" not in eg:
        row("Event Grid event to PUT p99 (out-of-band %s, %d connections)" % ("/".join(eg["kinds"]),
                                                                            eg["connections"]), "≤ 100 ms",
            "p50 %s ms, p99 %s ms (%d/%d seen)" % (fmt(eg["p50Ms"]), fmt(eg["p99Ms"]), eg["observed"], eg["trials"]),
            eg["p99Ms"] is not None and eg["p99Ms"] <= 100 and eg["missed"] == 0)
    else:
        row("Event Grid event to PUT p99", "≤ 100 ms", eg.get("notRun", "") if eg else "not run", None)
    kc = res.get("kubectl")
    if kc and "notRun" not in kc:
        row("kubectl apply to PUT (%d DataConnections)" % kc["connections"], "none in the issue (reported)",
            "from kubectl start p50 %s ms, p99 %s ms; from its exit p50 %s ms, p99 %s ms (%d/%d seen)" %
            (fmt(kc["p50Ms"]), fmt(kc["p99Ms"]), fmt(kc["fromKubectlExit"]["p50Ms"]),
             fmt(kc["fromKubectlExit"]["p99Ms"]), kc["observed"], kc["edits"]), None)
    elif kc:
        row("kubectl apply to PUT", "none in the issue (reported)", kc["notRun"], None)
    th = res.get("throttled")
    if th:
        row("throttled convergence / token-bucket lower bound (%d conns, refill x%g)" %
            (th["connections"], th["refillScale"]), "≤ 1.10, 0 × 429",
            "%s (%s s / %s s), %d × 429" % (fmt(th["ratio"], 2), fmt(th["seconds"]), fmt(th["lowerBoundSeconds"]),
                                             th["status429"]),
            th["ratio"] is not None and th["ratio"] <= 1.10 and th["status429"] == 0)
    econ = res.get("economy")
    if econ:
        row("ARM calls per connection per hour vs ASO v2", "≥ 20× fewer",
            "%.3f vs %.2f: %.1f× fewer" % (econ["oursPerConnectionHour"], econ["asoPerConnectionHour"],
                                           econ["factor"]), econ["factor"] >= 20)
    return rows


def economy(res):
    st, aso = res.get("steady"), res.get("aso")
    if not st or not aso or not st.get("callsPerResync"):
        return None
    ours_per_resync = st["callsPerResync"] / st["connections"]
    ours = ours_per_resync * 3600 / 300.0  # a 5-minute resync
    theirs = aso["perConnection"] * 1.0  # one sync per hour (ASO's default)
    return {"oursCallsPerConnectionPerResync": ours_per_resync, "oursResync": "5m",
            "oursPerConnectionHour": ours, "asoCallsPerConnectionPerSync": aso["perConnection"],
            "asoSync": "1h", "asoPerConnectionHour": theirs, "factor": theirs / ours if ours else float("inf")}


def write_markdown(path, res):
    m, c = res["machine"], res["git"]
    lines = ["# Kustodian benchmark results", "",
             "Run %s on %d cores, %s (%s), commit `%s`%s." %
             (res["startedAt"], m["cores"], m["memory"], m["cpu"], c["commit"][:12],
              " (with uncommitted changes)" if c["dirty"] else ""),
             "Load average at start %s, at end %s: %s" %
             (" ".join(m["loadavgAtStart"]), " ".join(res["loadavgAtEnd"]), res["noise"]), "",
             "| target | goal | measured | met |", "|---|---|---|---|"]
    for r in res["targets"]:
        met = "n/a" if r["met"] is None else ("met" if r["met"] else "**not met**")
        lines.append("| %s | %s | %s | %s |" % (r["target"], r["goal"], r["measured"], met))
    lines += ["", "## Details", ""]
    cold = res.get("cold")
    if cold:
        lines += ["- Cold convergence: %s s for %d connections in %d databases on %d clusters (emulator LROs "
                  "done at once, announced with `Retry-After: 0`); ARM calls %s "
                  "(%s calls/s); peak RSS %.1f MiB; CPU %.1f s." %
                  (fmt(cold["seconds"]), cold["connections"], cold["databases"], cold["clusters"],
                   json.dumps(cold["armCallsByRoute"]), fmt(cold.get("armCallsPerSecond")), cold["peakRssMiB"],
                   cold["cpuSeconds"])]
    st = res.get("steady")
    if st:
        lines += ["- Steady state (%.1f min, resync %s): %d writes, %d reads (%d LISTs) over %.1f resync rounds, "
                  "RSS %s MiB, %.2f CPU s per minute." %
                  (st["minutes"], st["resyncInterval"], st["writes"], st["reads"], st["lists"], st["resyncRounds"],
                   json.dumps(st["rssMiB"]), st["cpuSecondsPerMinute"])]
    wr = res.get("warmRestart")
    if wr:
        lines += ["- Warm restart (same state, %d connections already in sync): all Ready after %s s." %
                  (wr["connections"], fmt(wr["seconds"]))]
    for lat in (res.get("latency"), res.get("latencyLowDebounce")):
        if not lat:
            continue
        lines += ["- File edit to PUT: %d edits %d ms apart: min %s, p50 %s, p90 %s, p99 %s, max %s ms; "
                  "debounce %s." % (lat["edits"], lat["spacingMs"], fmt(lat["minMs"]), fmt(lat["p50Ms"]),
                                    fmt(lat["p90Ms"]), fmt(lat["p99Ms"]), fmt(lat["maxMs"]), lat["debounce"])]
    for key, label in (("eventgrid", "Event Grid event to PUT"), ("kubectl", "kubectl apply to PUT")):
        v = res.get(key) or {}
        if "notRun" in v:
            lines.append("- %s: %s." % (label, v["notRun"]))
    eg = res.get("eventgrid") or {}
    if eg and "notRun" not in eg:
        lines += ["- Event Grid event to PUT: %d out-of-band changes (%s, alternating) at the emulator's admin API "
                  "over %d managed connections, each %d ms after the previous correction settled (its operation "
                  "polled and read back: p50 %s ms after its PUT), daemon resync %s, rescans off, --eventgrid-coalesce "
                  "%s: min %s, p50 %s, p90 %s, p99 %s, max %s ms (%d missed). %s. Split at the daemon's "
                  "confirming GET: change to GET p50 %s / p99 %s ms (emulator delivery, coalescing, queue), "
                  "GET to PUT p50 %s / p99 %s ms. The change is timed before the admin request is sent (its "
                  "round trip: p50 %s ms). LISTs during the trials: %d; daemon event outcomes %s." %
                  (eg["trials"], "/".join(eg["kinds"]), eg["connections"], eg["spacingMs"],
                   fmt(eg["putToSettled"]["p50Ms"]), eg["resyncInterval"],
                   eg["coalesce"], fmt(eg["minMs"]), fmt(eg["p50Ms"]), fmt(eg["p90Ms"]), fmt(eg["p99Ms"]),
                   fmt(eg["maxMs"]), eg["missed"],
                   "; ".join("%s p50 %s / p99 %s ms" % (k, fmt(v["p50Ms"]), fmt(v["p99Ms"]))
                             for k, v in eg["byKind"].items()),
                   fmt(eg["changeToGet"]["p50Ms"]), fmt(eg["changeToGet"]["p99Ms"]), fmt(eg["getToPut"]["p50Ms"]),
                   fmt(eg["getToPut"]["p99Ms"]), fmt(eg["adminRoundTrip"]["p50Ms"]), eg["listsDuringTrials"],
                   json.dumps(eg["daemonEventOutcomes"], sort_keys=True))]
    kc = res.get("kubectl") or {}
    if kc and "notRun" not in kc:
        lines += ["- kubectl apply to PUT: %d `kubectl apply -f` (%s) of a changed DataConnection (tableName) over "
                  "%d, each %d ms after the previous correction settled, daemon --source=kubernetes with resync %s. "
                  "From kubectl's start: min %s, p50 %s, "
                  "p90 %s, p99 %s, max %s ms; from its exit: p50 %s, p99 %s ms; from the API server's PATCH "
                  "(its request log): p50 %s, p99 %s ms. kubectl itself ran p50 %s / p99 %s ms. %d missed, "
                  "%d failed." %
                  (kc["edits"], kc["kubectlVersion"], kc["connections"], kc["spacingMs"], kc["resyncInterval"],
                   fmt(kc["minMs"]), fmt(kc["p50Ms"]), fmt(kc["p90Ms"]), fmt(kc["p99Ms"]), fmt(kc["maxMs"]),
                   fmt(kc["fromKubectlExit"]["p50Ms"]), fmt(kc["fromKubectlExit"]["p99Ms"]),
                   fmt(kc["fromApiserverPatch"]["p50Ms"]), fmt(kc["fromApiserverPatch"]["p99Ms"]),
                   fmt(kc["kubectlDuration"]["p50Ms"]), fmt(kc["kubectlDuration"]["p99Ms"]), kc["missed"],
                   kc["failed"])]
    th = res.get("throttled")
    if th:
        lines += ["- Throttled: %d connections, write bucket %s, read bucket %s: %s s, lower bound %.1f s "
                  "(minimal work: %.1f s), ARM calls %s, %d × 429." %
                  (th["connections"], th["writeBucket"], th["readBucket"], fmt(th["seconds"]),
                   th["lowerBoundSeconds"], th["lowerBoundMinimalWorkSeconds"], json.dumps(th["armCallsByMethod"]),
                   th["status429"])]
    wrk = res.get("wrk")
    if wrk and "skipped" not in wrk:
        lines += ["- Emulator capacity (wrk, 2 threads, 16 connections): GET %s req/s, LIST of %d %s req/s, "
                  "PUT %s req/s." % (fmt(wrk["GET"].get("requestsPerSecond"), 0), wrk["listSize"],
                                     fmt(wrk["LIST"].get("requestsPerSecond"), 0),
                                     fmt(wrk["PUT"].get("requestsPerSecond"), 0))]
        if cold and cold.get("armCallsPerSecond"):
            lines += ["  The daemon's cold convergence used %.1f%% of the emulator's GET capacity "
                      "(%s calls/s)." % (100.0 * cold["armCallsPerSecond"] / wrk["GET"]["requestsPerSecond"],
                                         fmt(cold["armCallsPerSecond"]))]
    elif wrk:
        lines.append("- Emulator capacity: %s." % wrk["skipped"])
    aso, econ = res.get("aso"), res.get("economy")
    if aso:
        lines += ["- ASO v2 strategy: one sync over %d connections made %d calls %s (%.2f per connection) "
                  "in %.1f s." % (aso["connections"], aso["calls"], json.dumps(aso["byMethod"]),
                                  aso["perConnection"], aso["seconds"])]
    if econ:
        lines += ["- ARM calls per connection per hour: ours %.4f (%.5f per resync × 12 resyncs/h at 5 min), "
                  "ASO %.2f (%.2f per sync × 1 sync/h): %.1f× fewer." %
                  (econ["oursPerConnectionHour"], econ["oursCallsPerConnectionPerResync"],
                   econ["asoPerConnectionHour"], econ["asoCallsPerConnectionPerSync"], econ["factor"])]
    plots = [p for p in res.get("plots", [])]
    if plots:
        lines += ["", "## Plots", ""] + ["![%s](%s)" % (p, p) for p in plots]
    lines += ["", "Settings: `%s`" % json.dumps(res["settings"]), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def plot(results_dir, cold_samples, throttled_samples):
    if not shutil.which("gnuplot") or not (cold_samples or throttled_samples):
        return []
    made = []
    ready_dat = os.path.join(results_dir, "ready.dat")
    with open(ready_dat, "w") as f:
        for name, samples in (("cold", cold_samples), ("throttled", throttled_samples)):
            f.write("# %s\n" % name)
            for s in samples or []:
                if "ready" in s:
                    f.write("%.2f %d\n" % (s["t"], s["ready"]))
            f.write("\n\n")
    rates = method_rates(cold_samples or [])
    methods = sorted({m for _, r in rates for m in r})
    rate_dat = os.path.join(results_dir, "arm_rate.dat")
    with open(rate_dat, "w") as f:
        f.write("# t " + " ".join(methods) + "\n")
        for t, r in rates:
            f.write("%.2f %s\n" % (t, " ".join("%.1f" % r.get(m, 0) for m in methods)))
    gp = os.path.join(results_dir, "plots.gp")
    with open(gp, "w") as f:
        f.write("set terminal pngcairo size 900,500 noenhanced\n" if has_pngcairo() else
                "set terminal png size 900,500\n")
        f.write("set grid\nset key left top\n")
        f.write("set output '%s'\n" % os.path.join(results_dir, "ready.png"))
        f.write("set title 'Connections Ready over time'\nset xlabel 'seconds since daemon start'\n"
                "set ylabel 'connections Ready'\n")
        f.write("plot '%s' index 0 with lines lw 2 title 'cold (no throttling)', "
                "'%s' index 1 with lines lw 2 title 'throttled'\n" % (ready_dat, ready_dat))
        if methods:
            f.write("set output '%s'\n" % os.path.join(results_dir, "arm_calls.png"))
            f.write("set title 'ARM calls per second by method (cold convergence)'\n"
                    "set ylabel 'calls per second'\n")
            f.write("plot " + ", ".join("'%s' using 1:%d with lines lw 2 title '%s'" % (rate_dat, i + 2, m)
                                        for i, m in enumerate(methods)) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr.strip())
        return []
    for p in ("ready.png", "arm_calls.png"):
        if os.path.exists(os.path.join(results_dir, p)):
            made.append(p)
    return made


def has_pngcairo():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in (r.stdout + r.stderr)


# --- main --------------------------------------------------------------------------------------


def config(args):
    smoke = os.environ.get("BENCH_SMOKE") == "1"
    conns = env_int("BENCH_CONNECTIONS", 200 if smoke else 10000)
    cfg = {
        "smoke": smoke, "build_dir": os.path.abspath(args.build_dir), "connections": conns,
        "databases": env_int("BENCH_DATABASES", 4 if smoke else 100),
        "clusters": env_int("BENCH_CLUSTERS", 4 if smoke else 100),
        "workers": env_int("BENCH_WORKERS", 4),
        "cold_timeout": env_float("BENCH_COLD_TIMEOUT", 120 if smoke else 900),
        "steady_minutes": env_float("BENCH_STEADY_MINUTES", 0.25 if smoke else 10),
        "steady_resync": os.environ.get("BENCH_STEADY_RESYNC", "5s" if smoke else "30s"),
        "edits": env_int("BENCH_EDITS", 5 if smoke else 200),
        "edit_spacing_ms": env_int("BENCH_EDIT_SPACING_MS", 100),
        "debounce": os.environ.get("BENCH_DEBOUNCE", ""),
        "low_debounce": os.environ.get("BENCH_LOW_DEBOUNCE", "10ms"),
        "throttled_connections": env_int("BENCH_THROTTLED_CONNECTIONS", 300 if smoke else 2000),
        "refill_scale": env_float("BENCH_REFILL_SCALE", 2),
        "wrk_seconds": env_int("BENCH_WRK_SECONDS", 2 if smoke else 10),
        "aso_connections": env_int("BENCH_ASO_CONNECTIONS", conns),
        "eg_connections": env_int("BENCH_EG_CONNECTIONS", min(conns, 40 if smoke else 1000)),
        "eg_trials": env_int("BENCH_EG_TRIALS", 6 if smoke else 200),
        "eg_spacing_ms": env_int("BENCH_EG_SPACING_MS", 100),
        "eg_kinds": os.environ.get("BENCH_EG_KINDS", "delete,edit"),
        "eg_resync": os.environ.get("BENCH_EG_RESYNC", "1h"),
        "eg_coalesce": os.environ.get("BENCH_EG_COALESCE", ""),
        "kube_connections": env_int("BENCH_KUBE_CONNECTIONS", min(conns, 40 if smoke else 1000)),
        "kube_edits": env_int("BENCH_KUBE_EDITS", 5 if smoke else 200),
        "kube_spacing_ms": env_int("BENCH_KUBE_SPACING_MS", 100),
        "kube_resync": os.environ.get("BENCH_KUBE_RESYNC", "1h"),
        "scenarios": os.environ.get("BENCH_SCENARIOS",
                                    "cold,steady,latency,throttled,wrk,aso,eventgrid,kubectl").split(","),
    }
    cfg["debounce_args"] = ["--debounce", cfg["debounce"]] if cfg["debounce"] else []
    return cfg


def main():
    # SIGTERM/SIGINT unwind through the finally blocks, so no daemon or emulator is left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--work-dir", default="")
    args = p.parse_args()
    cfg = config(args)
    for b in ("kustodian", "kustodian-emulator"):
        if not os.access(os.path.join(cfg["build_dir"], b), os.X_OK):
            sys.exit("bench.py: %s/%s is missing; build it first (make build)" % (cfg["build_dir"], b))
    os.makedirs(args.results, exist_ok=True)
    work = args.work_dir or tempfile.mkdtemp(prefix="kustodian-bench-")
    os.makedirs(work, exist_ok=True)
    log("work dir %s; results in %s" % (work, args.results))
    res = {"startedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": machine_info(), "git": git_commit(),
           "settings": {k: v for k, v in cfg.items() if k != "debounce_args"}}
    sc = cfg["scenarios"]
    cold_samples = throttled_samples = None
    emu = daemon = None
    try:
        # The latency scenario edits the world of the cold run: asked alone, it runs that first.
        if "cold" in sc or "latency" in sc:
            world, mdir, conns = gen_world.write_world(os.path.join(work, "world"), cfg["connections"],
                                                       cfg["databases"], cfg["clusters"])
            res["cold"], emu, daemon, cold_samples = scenario_cold(cfg, work, world, mdir, conns)
            if res["cold"]["converged"]:
                if "steady" in sc:
                    res["steady"] = scenario_steady(cfg, emu, daemon, len(conns))
                if "latency" in sc:
                    res["latency"] = scenario_latency(cfg, emu, daemon, mdir, conns,
                                                      cfg["debounce"] or "default (200ms)")
            daemon.stop()
            daemon = None
            if res["cold"]["converged"] and "latency" in sc and cfg["low_debounce"]:
                # Warm restart (same state dir, every connection already in sync) with a short
                # --debounce, then the same latency scenario on other files.
                daemon = Daemon(cfg["build_dir"], work, mdir, emu.url,
                                ["--arm-rate-limits", "off", "--resync-interval", cfg["steady_resync"],
                                 "--workers", str(cfg["workers"]), "--debounce", cfg["low_debounce"]],
                                keep_state=True, log_name="kustodian-warm.log")
                sampler = Sampler(daemon, emu, period=0.25)
                sampler.t0 = daemon.started
                sampler.start()
                t = wait_converged(daemon, sampler, len(conns), cfg["cold_timeout"])
                sampler.stop()
                res["warmRestart"] = {"seconds": t, "connections": len(conns)}
                log("warm restart: all Ready after %s s" % fmt(t))
                if t is not None:
                    res["latencyLowDebounce"] = scenario_latency(cfg, emu, daemon, mdir, conns, cfg["low_debounce"],
                                                                 seed=7, prefix="Fast")
                daemon.stop()
                daemon = None
            if "aso" in sc:
                # Same emulator, same world (now created), the daemon stopped: only ASO's calls count.
                res["aso"] = scenario_aso(cfg, emu, conns)
            emu.stop()
            emu = None
        res["eventgrid"] = run_reaction_scenario("eventgrid", scenario_eventgrid, cfg, work,
                                                 "--eventgrid-bind-address", "issue 5 (Event Grid)")
        if "kubectl" in sc and not os.access(os.path.join(cfg["build_dir"], "kube-test-apiserver"), os.X_OK):
            res["kubectl"] = {"notRun": "not run: %s/kube-test-apiserver is missing (cmake --build ... "
                                        "--target kube-test-apiserver)" % cfg["build_dir"]}
        elif "kubectl" in sc and not os.access(KUBECTL, os.X_OK):
            res["kubectl"] = {"notRun": "not run: %s is missing (make deps installs it)" % KUBECTL}
        else:
            res["kubectl"] = run_reaction_scenario("kubectl", scenario_kubectl, cfg, work, "--kubeconfig",
                                                   "issue 4 (Kubernetes mode)")
        if "throttled" in sc:
            res["throttled"], throttled_samples = scenario_throttled(cfg, work, cfg["throttled_connections"])
        if "wrk" in sc:
            res["wrk"] = run_wrk(cfg, work)
    finally:
        stop_all()
    res["economy"] = economy(res)
    res["loadavgAtEnd"] = open("/proc/loadavg").read().split()[:3]
    res["noise"] = ("figures are noisy: the machine is shared (other builds and tests ran at the same time)"
                    if float(res["machine"]["loadavgAtStart"][0]) > 0.5 * (os.cpu_count() or 1)
                    or float(res["loadavgAtEnd"][0]) > 0.5 * (os.cpu_count() or 1)
                    else "machine was mostly idle")
    res["targets"] = targets(res)
    res["plots"] = plot(args.results, cold_samples, throttled_samples)
    res["workDir"] = work
    with open(os.path.join(args.results, "latest.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
    write_markdown(os.path.join(args.results, "latest.md"), res)
    with open(os.path.join(args.results, "samples.json"), "w") as f:
        json.dump({"cold": cold_samples, "throttled": throttled_samples}, f)
    log("wrote %s/latest.json and latest.md" % args.results)
    print(open(os.path.join(args.results, "latest.md")).read())


if __name__ == "__main__":
    main()
