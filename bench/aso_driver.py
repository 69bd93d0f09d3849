#!/usr/bin/env python3
"""The baseline: the sync strategy of Azure Service Operator v2, driven against the emulator.

ASO v2 reconciles every resource on every sync (default 1 h, AZURE_SYNC_PERIOD): it sends a full
PUT of the resource whatever ARM holds, follows the long-running operation the PUT starts (polls
its Azure-AsyncOperation URL until it is terminal), and then GETs the resource to refresh its
status. This driver does exactly that for every connection of a generated world, with a few
keep-alive connections in parallel, and counts the calls it made. Standard library only.
"""
import http.client
import json
import threading
import time
import urllib.parse

API_VERSION = "2024-04-13"


class _Client:
    def __init__(self, base_url, token):
        u = urllib.parse.urlparse(base_url)
        self.host, self.port = u.hostname, u.port
        self.token = token
        self.conn = None
        self.calls = {}

    def request(self, method, url, body=None):
        u = urllib.parse.urlparse(url)
        # ARM's update/delete status URLs carry the location with literal spaces ("East US 2").
        path = u.path.replace(" ", "%20") + ("?" + u.query if u.query else "")
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                self.calls[method] = self.calls.get(method, 0) + 1
                return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), payload
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        return 0, {}, b""


def _reconcile(client, base_url, conn, stats):
    url = "%s%s?api-version=%s" % (base_url, conn.arm_path, API_VERSION)
    for _ in range(20):  # 409 while an operation runs: ASO requeues; we retry shortly
        status, headers, _ = client.request("PUT", url, conn.arm_body())
        if status != 409 and status != 429:
            break
        stats["retries"] += 1
        time.sleep(0.05)
    op_url = headers.get("azure-asyncoperation")
    polls = 0
    while op_url and polls < 100:
        polls += 1
        status, _, payload = client.request("GET", op_url)
        try:
            state = json.loads(payload).get("status", "")
        except ValueError:
            state = ""
        if state in ("Succeeded", "Failed", "Canceled"):
            break
        time.sleep(0.01)
    client.request("GET", url)


def run_sync(base_url, token, conns, threads=4):
    """One ASO sync over `conns`: returns {seconds, calls, byMethod, perConnection, retries}."""
    lock = threading.Lock()
    queue = list(conns)
    stats = {"retries": 0}
    clients = [_Client(base_url, token) for _ in range(threads)]

    def worker(client):
        while True:
            with lock:
                if not queue:
                    return
                conn = queue.pop()
            _reconcile(client, base_url, conn, stats)

    start = time.time()
    ts = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    seconds = time.time() - start
    by_method = {}
    for c in clients:
        for m, n in c.calls.items():
            by_method[m] = by_method.get(m, 0) + n
    calls = sum(by_method.values())
    return {"seconds": seconds, "connections": len(conns), "calls": calls, "byMethod": by_method,
            "perConnection": calls / max(1, len(conns)), "retries": stats["retries"]}
