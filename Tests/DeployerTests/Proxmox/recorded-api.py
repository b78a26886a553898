#!/usr/bin/env python3
"""Replays recorded Proxmox VE API answers (pve1-vm127.json) on 127.0.0.1 for the Proxmox
driver's tests: a VM whose status flips with shutdown/stop/start tasks. Every request is
appended to the log (method, path, Authorization, body) for the test to read.

usage: recorded-api.py ANSWERS.json LOG PORT_FILE [TOKEN]
"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

answers = json.load(open(sys.argv[1]))
log = open(sys.argv[2], "a", buffering=1)
token = sys.argv[4] if len(sys.argv) > 4 else "root@pam!imagec=11111111-2222-3333-4444-555555555555"
state = {"status": "running"}
prefix = "/api2/json/nodes/pve1/"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        log.write(json.dumps({"method": method, "path": self.path, "auth": self.headers.get("Authorization"), "body": body}) + "\n")
        if self.headers.get("Authorization") != "PVEAPIToken=" + token:
            self.send_response(401, "authentication failure")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self.path
        if not path.startswith(prefix):
            return self.answer(404, {"data": None, "errors": {"path": "no such path"}})
        path = path[len(prefix):]
        if path.startswith("qemu/127/"):
            action = path[len("qemu/127/"):]
            if method == "GET" and action == "status/current":
                data = dict(answers["status/current"]["data"], status=state["status"])
                return self.answer(200, {"data": data})
            if method == "GET" and action == "config":
                return self.answer(200, answers["config"])
            if method == "POST" and action in ("status/shutdown", "status/stop", "status/start"):
                kind = {"status/shutdown": "qmshutdown", "status/stop": "qmstop", "status/start": "qmstart"}[action]
                state["status"] = "running" if kind == "qmstart" else "stopped"
                upid = "UPID:pve1:000DEC39:075BCD15:%08X:%s:127:root@pam!imagec:" % (int(time.time()), kind)
                return self.answer(200, {"data": upid})
            return self.answer(501, {"data": None, "message": "Method '%s %s' not implemented" % (method, action)})
        if method == "GET" and path.startswith("tasks/") and path.endswith("/status"):
            upid = path[len("tasks/"):-len("/status")].replace("%3A", ":").replace("%21", "!").replace("%40", "@")
            kind = upid.split(":")[5] if upid.count(":") >= 6 else "?"
            return self.answer(200, {"data": dict(answers["task"]["data"], upid=upid, type=kind)})
        return self.answer(404, {"data": None})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[3], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
