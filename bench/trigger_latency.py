#!/usr/bin/env python3
"""Put-to-handler latency of `riffle trigger` at low load, polling vs pushing.

Starts a riffled (fsync always) in a temporary directory, and for each mode a runner with a
Python handler that appends `now - sent` (ms) for every record it receives; a producer puts the
current time every 50 ms (20 records/s) through the Kinesis port with boto3. Prints p50, p99 and
max per mode.

    bench/trigger_latency.py [--riffled build/server/riffled/riffled]
                             [--riffle build/client/cli/riffle] [--records 300]
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

import boto3
from botocore.config import Config

HANDLER = """
import time
def handler(event, context):
    now = time.time() * 1000
    with open(__file__ + ".ms", "a") as f:
        for record in event["Records"]:
            sent = float(base64.b64decode(record["kinesis"]["data"]))
            f.write(f"{now - sent}\\n")
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser()
    parser.add_argument("--riffled", default=os.path.join(root, "build/server/riffled/riffled"))
    parser.add_argument("--riffle", default=os.path.join(root, "build/client/cli/riffle"))
    parser.add_argument("--records", type=int, default=300)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="riffle-trigger-latency-")
    kinesis_port, grpc_port = free_port(), free_port()
    daemon = subprocess.Popen(
        [args.riffled, "--data-dir", os.path.join(work, "data"), "--kinesis-port",
         str(kinesis_port), "--grpc-port", str(grpc_port), "--metrics-port", "0",
         "--console-port", "0", "--fsync", "always"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "riffled.log"), "w"))
    endpoint = f"127.0.0.1:{grpc_port}"
    try:
        for _ in range(100):
            if subprocess.run([args.riffle, "stream", "list", "--endpoint", endpoint],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        kinesis = boto3.client("kinesis", endpoint_url=f"http://127.0.0.1:{kinesis_port}",
                               region_name="us-east-1", aws_access_key_id="x",
                               aws_secret_access_key="x", config=Config(retries={"max_attempts": 5}))
        results = {}
        for mode, extra in (("poll (GetRecords)", []), ("push (--consumer)", ["--consumer", "c"])):
            stream = "latency" + str(len(results))
            kinesis.create_stream(StreamName=stream, ShardCount=1)
            handler = os.path.join(work, f"handler{len(results)}.py")
            with open(handler, "w") as f:
                f.write(HANDLER)
            runner = subprocess.Popen(
                [args.riffle, "trigger", "--stream", stream, "--group", "g", "--python",
                 handler + ":handler", "--starting-position", "TRIM_HORIZON", *extra,
                 "--endpoint", endpoint],
                stdout=subprocess.DEVNULL, stderr=open(handler + ".err", "w"))
            time.sleep(2)  # the runner leases the shard (and subscribes)
            for _ in range(args.records):
                kinesis.put_record(StreamName=stream, Data=repr(time.time() * 1000).encode(),
                                   PartitionKey="k")
                time.sleep(0.05)
            deadline = time.time() + 30
            latencies = []
            while time.time() < deadline:
                if os.path.exists(handler + ".ms"):
                    with open(handler + ".ms") as f:
                        latencies = [float(line) for line in f if line.strip()]
                if len(latencies) >= args.records:
                    break
                time.sleep(0.2)
            runner.send_signal(signal.SIGTERM)
            runner.wait(timeout=30)
            results[mode] = latencies
        print(f"put-to-handler latency, {args.records} records at 20/s, one shard, "
              f"fsync always")
        print("| mode | records | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        for mode, latencies in results.items():
            if not latencies:
                print(f"| {mode} | 0 | - | - | - |")
                continue
            print(f"| {mode} | {len(latencies)} | {statistics.median(latencies):.0f} | "
                  f"{percentile(latencies, 0.99):.0f} | {max(latencies):.0f} |")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
