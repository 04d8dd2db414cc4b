#!/usr/bin/env python3
"""Writes the seeds of http2_request_fuzz: each HTTP/1.1 seed of http_request_fuzz as the
HTTP/2 frames that follow the client preface (SETTINGS, then the request as HEADERS and DATA
on stream 1, its header block in HPACK literals), plus a few inputs only HTTP/2 can carry:
two requests interleaved on streams 1 and 3, a body over the target's 1 KiB limit in several
DATA frames, a SubscribeToShard, a PING and a RST_STREAM. Run from the repository root after
changing either."""
import pathlib
import struct

HTTP1_SEEDS = pathlib.Path("tests/fuzz/corpus/http_request_fuzz")
OUT = pathlib.Path("tests/fuzz/corpus/http2_request_fuzz")

DATA, HEADERS, RST_STREAM, SETTINGS, PING, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x8
END_STREAM, END_HEADERS = 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = [first_byte | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def header_block(headers):
    """Literal header fields without indexing, new name, no Huffman coding (RFC 7541 6.2.2)."""
    block = b""
    for name, value in headers:
        name, value = name.lower().encode(), value.encode()
        block += b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value
    return block


def request(stream, target, content_type, body, chunk=16384):
    headers = [(":method", "POST"), (":scheme", "http"), (":path", "/"),
               (":authority", "localhost"), ("x-amz-target", target),
               ("content-type", content_type)]
    frames = frame(HEADERS, END_HEADERS | (0 if body else END_STREAM), stream, header_block(headers))
    for start in range(0, len(body), chunk):
        last = start + chunk >= len(body)
        frames += frame(DATA, END_STREAM if last else 0, stream, body[start:start + chunk])
    return frames


def parse_http1(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower().decode()] = value.strip().decode()
    if fields.get("transfer-encoding") == "chunked":
        plain = b""
        while True:
            size_line, _, body = body.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            plain, body = plain + body[:size], body[size + 2:]
        body = plain
    return fields.get("x-amz-target", ""), fields.get("content-type", ""), body


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    settings = frame(SETTINGS, 0, 0)
    json = "application/x-amz-json-1.1"
    for seed in sorted(HTTP1_SEEDS.iterdir()):
        target, content_type, body = parse_http1(seed.read_bytes())
        (OUT / seed.name).write_bytes(settings + request(1, target, content_type, body))
    create = b'{"StreamName":"s","ShardCount":1}'
    put = b'{"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"p"}'
    interleaved = (frame(HEADERS, END_HEADERS, 1, header_block([
        (":method", "POST"), (":scheme", "http"), (":path", "/"),
        ("x-amz-target", "Kinesis_20131202.CreateStream"), ("content-type", json)]))
        + request(3, "Kinesis_20131202.PutRecord", json, put)
        + frame(DATA, END_STREAM, 1, create))
    (OUT / "two_streams").write_bytes(settings + interleaved)
    oversized = b'{"StreamName":"s","Data":"' + b"QUFB" * 400 + b'","PartitionKey":"p"}'
    (OUT / "body_over_limit").write_bytes(
        settings + request(1, "Kinesis_20131202.PutRecord", json, oversized, chunk=512))
    subscribe = (b'{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1",'
                 b'"ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}')
    (OUT / "subscribe_to_shard").write_bytes(
        settings + request(1, "Kinesis_20131202.SubscribeToShard", json, subscribe))
    (OUT / "ping_reset_window").write_bytes(
        settings + frame(PING, 0, 0, b"12345678") + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1024))
        + frame(HEADERS, END_HEADERS, 1, header_block([(":method", "POST"), (":path", "/")]))
        + frame(RST_STREAM, 0, 1, struct.pack(">I", 8)))


if __name__ == "__main__":
    main()
