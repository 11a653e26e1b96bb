#!/usr/bin/env python3
"""Writes the hand-made seed inputs, corpus/<target>/seed-*, in the format src/lib.rs reads.

Run it after changing how a target reads its input: python3 server/fuzz/seeds.py
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
HEADERS = [
    "x-hub-signature-256", "x-hub-signature", "x-github-event", "x-github-delivery",
    "stripe-signature", "x-slack-signature", "x-slack-request-timestamp", "webhook-id",
    "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature",
    "x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-webhook-id", "x-dropbox-signature",
    "x-trello-webhook", "x-pusher-key", "x-pusher-signature", "x-zendesk-webhook-signature",
    "x-zendesk-webhook-signature-timestamp", "x-event-key", "x-request-uuid", "x-request-id",
    "ms-signature", "x-signature", "x-timestamp", "x-id", "x-event",
]
PROVIDERS = [
    "github", "stripe", "slack", "standard-webhooks", "shopify", "dropbox", "trello", "pusher",
    "zendesk", "bitbucket", "aspnet", "secret-in-url", "generic",
]
SIGN, FROM_JSON = 1, 4
POST, GET = 0, 1


def field(value):
    data = value.encode() if isinstance(value, str) else bytes(value)
    if len(data) < 0xFF:
        return bytes([len(data)]) + data
    return b"\xff" + struct.pack("<H", len(data)) + data


def some(value):
    return b"\x01" + field(value)


NONE = b"\x00"


def header(name, value):
    return bytes([HEADERS.index(name)]) + field(value)


def request(provider, flags=0, method=POST, secrets=(b"secret",), settings=b"",
            callback=NONE, query=NONE, headers=(), body=b""):
    out = bytes([PROVIDERS.index(provider), flags, method]) + struct.pack("<h", 0)
    out += bytes([len(secrets)]) + b"".join(field(s) for s in secrets) + settings
    out += callback + query + bytes([len(headers)]) + b"".join(headers)
    return out + (body.encode() if isinstance(body, str) else body)


def generic_spec():
    """x-signature: v1=<base64 HMAC-SHA256 of "{timestamp}:{id}:{body}">, 300 s tolerance."""
    pieces = [b"\x01", b"\x03" + field(":"), b"\x02", b"\x03" + field(":"), b"\x00"]
    return (bytes([HEADERS.index("x-signature"), 1, 1]) + field("v1=") + b"\x00"
            + bytes([len(pieces)]) + b"".join(pieces)
            + b"\x01" + bytes([HEADERS.index("x-timestamp")])
            + b"\x01" + struct.pack("<I", 300)
            + b"\x01" + bytes([HEADERS.index("x-id")])
            + b"\x01" + bytes([HEADERS.index("x-event")]))


VERIFY = {
    "slack-url-verification": request(
        "slack", SIGN, body='{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRN"}'),
    "slack-slash-command": request("slack", SIGN, body="command=%2Fweather&text=94070"),
    "github-push": request("github", SIGN, headers=[
        header("x-github-event", "push"), header("x-github-delivery", "72d3162e")],
        body='{"zen":"hi"}'),
    "github-sha1": request("github", headers=[header("x-hub-signature", "sha1=00ff")], body="{}"),
    "stripe-unsigned": request("stripe", headers=[
        header("stripe-signature", "t=1750000000,v1=00ff,v0=aa")], body='{"type":"x"}'),
    "stripe-signed": request("stripe", SIGN, body='{"type":"invoice.paid","id":"evt_1"}'),
    "standard-webhooks": request("standard-webhooks", SIGN, body='{"type":"invoice.paid"}'),
    "svix-headers": request("standard-webhooks", secrets=[b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        headers=[header("svix-id", "msg_1"), header("svix-timestamp", "1750000000"),
                 header("svix-signature", "v1,AAAA v1a,BBBB")], body="{}"),
    "shopify": request("shopify", SIGN, headers=[header("x-shopify-topic", "orders/create")],
        body='{"id":1}'),
    "dropbox-challenge": request("dropbox", method=GET, query=some("challenge=abc%20123")),
    "trello": request("trello", SIGN, callback=some("https://hooks.example.com/in/src_1"),
        body='{"action":{"type":"updateCard","id":"51f9"}}'),
    "pusher": request("pusher", SIGN, settings=field("app-key"),
        body='{"events":[{"name":"channel_occupied"},{"name":"channel_occupied"}]}'),
    "zendesk": request("zendesk", SIGN, body='{"type":"zen:event-type:ticket.created","id":"1"}'),
    "bitbucket": request("bitbucket", SIGN, headers=[header("x-event-key", "repo:push")],
        body="{}"),
    "aspnet-echo": request("aspnet", method=GET, query=some("code=x&echo=6a1b")),
    "aspnet": request("aspnet", SIGN,
        body='{"Id":"1","Attempt":1,"Notifications":[{"Action":"created"}]}'),
    "secret-in-url": request("secret-in-url", SIGN, query=some("a=1")),
    "generic": request("generic", SIGN, settings=generic_spec(),
        headers=[header("x-event", "thing.happened")], body='{"a":1}'),
    "generic-json": request("generic", FROM_JSON, settings=field(json.dumps({
        "provider": "generic", "signature_header": "X-Sig", "algorithm": "sha256",
        "encoding": "hex", "prefix": "sha256="})), headers=[header("x-signature", "sha256=00")]),
}


def toml_line(key, value, quoted=True):
    return bytes([KEYS.index(key)]) + field(value) + (b"\x01" if quoted else b"\x00")


def env(key, value):
    return b"\x01" + bytes([KEYS.index(key)]) + field(value)


KEYS = [
    "listen", "database", "public_url", "secure_cookies", "max_body_bytes",
    "header_timeout_secs", "session_hours", "login_max_failures", "login_lockout_secs",
    "outbound_allow", "outbound_timeout_secs", "delivery_retry_secs", "delivery_concurrency",
    "subscription_concurrency", "disable_after_hours", "secret_overlap_hours",
    "handler_retry_secs", "log", "log_format",
]
CONFIG = {
    "file": b"\x01" + field(
        'listen = "0.0.0.0:8080"\npublic_url = "https://hooks.example.com/"\n'
        "max_body_bytes = 65536\ndelivery_retry_secs = \"0,5,300\"\nsecure_cookies = true\n"
    ) + b"\x00",
    "lines-and-env": b"\x00\x04" + toml_line("disable_after_hours", "12.5", False)
    + toml_line("handler_retry_secs", "0.05, 1,10") + toml_line("log_format", "json")
    + toml_line("outbound_timeout_secs", "30", False)
    + b"\x02" + env("listen", "127.0.0.1:0") + env("outbound_allow", "127.0.0.0/8, ::1"),
}


def i64(n):
    return struct.pack("<q", n)


API = {
    "history": b"\x00" + some("src_1") + some("push") + some("failed")
    + some("2026-11-23T17:30") + some("2026-11-23T17:30:00Z") + some("hello wor")
    + b"\x01" + i64(1_750_000_000_000) + i64(50),
    "instant": b"\x01" + b"2026-11-23T17:30:00+01:00",
    "names": b"\x02" + field("invoice.*") + field("invoice.paid"),
    "secret": b"\x03" + field("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    + field("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") + i64(1_750_000_000) + b'{"type":"invoice.paid"}',
    "url": b"\x04" + b"https://hooks.example.com:8443/in?x=1#f",
    "allow-list": b"\x05" + field("10.0.0.0/8, ::1, 192.168.1.7")
    + struct.pack("<I", 0x0100000A) + i64(1) + i64(0),
    "retry-after": b"\x06" + field("Wed, 21 Oct 2015 07:28:00 GMT") + i64(1_445_412_000_000)
    + b"\x03" + struct.pack("<III", 0, 5000, 300000) + struct.pack("<d", 0.2)
    + struct.pack("<I", 3_600_000) + struct.pack("<HH", 1, 503) + struct.pack("<d", 0.5),
    "aspnet": b"\x07" + field("msg_1") + struct.pack("<I", 1) + field("invoice.paid")
    + field('{"k":"v"}') + field("") + b'{"amount":5,"Action":"other"}',
}

for target, seeds in [("verify_providers", VERIFY), ("config", CONFIG), ("api_decoding", API)]:
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (folder / f"seed-{name}").write_bytes(data)
