"""Drives headless Chromium over the DevTools protocol (its --remote-debugging-pipe, so the
Python standard library is enough), one command per line on stdin, one answer per line:

  open URL             -> ok                     (a new tab; waits for the load)
  eval EXPRESSION      -> JSON of its value
  until SECONDS EXPR   -> ok | timeout JSON      (polls every 100 ms until EXPR is truthy)
  quit

The profile folder is the first argument."""
import json, os, subprocess, sys, time

profile = sys.argv[1]
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()


def wire_pipes():
    # Chromium reads commands on fd 3 and writes answers on fd 4.
    a, b = os.dup(to_browser_r), os.dup(from_browser_w)
    os.dup2(a, 3)
    os.dup2(b, 4)


browser = subprocess.Popen(
    ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"],
    preexec_fn=wire_pipes, close_fds=False, stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_r)
os.close(from_browser_w)
commands = os.fdopen(to_browser_w, "wb", buffering=0)
answers = os.fdopen(from_browser_r, "rb", buffering=0)
pending = b""
last_id = 0
session = None


def call(method, params=None, in_session=True):
    global last_id, pending
    last_id += 1
    message = {"id": last_id, "method": method, "params": params or {}}
    if in_session and session:
        message["sessionId"] = session
    commands.write(json.dumps(message).encode() + b"\0")
    while True:
        while b"\0" not in pending:
            chunk = answers.read(65536)
            if not chunk:
                raise SystemExit("chromium closed its pipe")
            pending += chunk
        text, pending = pending.split(b"\0", 1)
        answer = json.loads(text)
        if answer.get("id") == last_id:
            if "error" in answer:
                raise SystemExit(method + ": " + json.dumps(answer["error"]))
            return answer["result"]


def evaluate(expression):
    result = call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    return result["result"].get("value")


def until(seconds, expression):
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = evaluate(expression)
        if value:
            return "ok"
        time.sleep(0.1)
    return "timeout " + json.dumps(value)


for line in sys.stdin:
    verb, _, rest = line.strip().partition(" ")
    if verb == "open":
        target = call("Target.createTarget", {"url": rest}, in_session=False)
        session = call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                       in_session=False)["sessionId"]
        print(until(30, "location.href !== 'about:blank' && document.readyState === 'complete'"), flush=True)
    elif verb == "eval":
        print(json.dumps(evaluate(rest)), flush=True)
    elif verb == "until":
        seconds, _, expression = rest.partition(" ")
        print(until(float(seconds), expression), flush=True)
    elif verb == "quit":
        break
try:
    call("Browser.close", in_session=False)
except SystemExit:
    pass
browser.wait(timeout=20)
