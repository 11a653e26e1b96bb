"""Gives the hub under .ci/api-fuzz something to find: a source with an event and handlers, an
event type, a subscription with a failed delivery. Prints a schemathesis config that points
each route's path parameters at them, so the fuzzer reaches past 404 to the real work. DELETE
routes keep generated ids, so that the things stay for the other routes."""

import hashlib
import hmac
import json
import sys
import time
import urllib.request

base, key = sys.argv[1], sys.argv[2]


def call(method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
        return json.loads(text) if text else None


source = call("POST", "/api/v1/sources", {"name": "fuzzed", "provider": "github"})
payload = json.dumps({"action": "opened", "number": 1}).encode()
signature = "sha256=" + hmac.new(source["secret"].encode(), payload, hashlib.sha256).hexdigest()
call("POST", f"/hooks/{source['id']}", raw=payload, headers={
    "Content-Type": "application/json",
    "X-GitHub-Event": "pull_request",
    "X-GitHub-Delivery": "fuzz-1",
    "X-Hub-Signature-256": signature,
})
respond = {"kind": "respond", "settings": {"status": 200, "body": "ok"}}
source_handler = call("POST", f"/api/v1/sources/{source['id']}/handlers", respond)
global_handler = call("POST", "/api/v1/handlers", respond)
call("POST", "/api/v1/event-types", {"name": "fuzz.created", "example": {"id": 1}})
# Nothing listens on the discard port, so its deliveries fail and stay to be redelivered.
subscription = call("POST", "/api/v1/subscriptions",
                    {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})
call("POST", "/api/v1/messages", {"event_type": "fuzz.created", "payload": {"id": 1}})
for _ in range(100):
    events = call("GET", "/api/v1/events")["data"]
    deliveries = call("GET", "/api/v1/deliveries")["data"]
    if events and deliveries:
        break
    time.sleep(0.1)
else:
    sys.exit("the seeded event or delivery never appeared")

ids = [
    (r"^/sources/\{id\}", {"id": source["id"], "handler_id": source_handler["id"]}),
    (r"^/handlers/\{id\}", {"id": global_handler["id"]}),
    (r"^/events/\{id\}", {"id": events[0]["id"]}),
    (r"^/event-types/\{name\}", {"name": "fuzz.created"}),
    (r"^/subscriptions/\{id\}", {"id": subscription["id"]}),
    (r"^/deliveries/\{id\}", {"id": deliveries[0]["id"]}),
]
for path, parameters in ids:
    print("[[operations]]")
    print(f"include-path-regex = {json.dumps(path)}")
    print('exclude-method = "DELETE"')
    values = ", ".join(f"{json.dumps('path.' + name)} = {json.dumps(value)}" for name, value in parameters.items())
    print(f"parameters = {{ {values} }}")
    print()
