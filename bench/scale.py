#!/usr/bin/env python3
"""Scale benchmark: many shards on one riffled node (issue 20, "10,000 shards on one node").

Measures, on one node with `--fsync=always --shard-quotas=off`, each figure printed as it is
taken and all of them at the end as Markdown rows for docs/benchmarks.md:

 1. CreateStream of the whole layout (default 9,990 shards: nine 1,000-shard streams, nine
    100-shard streams and one of 90, so that the 10-shard stream of step 5 makes 10,000, the
    broker's limit), each until ACTIVE;
 2. the fill: PutRecords of --mb-per-stream MB into every stream (500 x 100 B per call, random
    partition keys, 8 threads);
 3. RSS 10 s after the fill, and bytes per shard above the RSS of the same node when empty;
 4. restart: SIGTERM until exit, then from exec to the first answered ListStreams and to every
    shard of every stream accepting a PutRecords (ExplicitHashKey aims one record at each);
 5. PutRecords throughput (500 x 100 B, 4 threads, --seconds) against the first of the
    largest streams; the same load on a fresh 10-shard stream of this node (when riffled's
    10,000-shard limit leaves room) and on a separate fresh node holding one 10-shard stream
    (the reference of the ratio), the big node stopped (SIGSTOP) meanwhile;
 6. once the data dir's size has settled, DeleteStream of a 1,000-shard stream: until it
    answers, until DescribeStream says ResourceNotFound, until the data dir has shrunk by 80 %
    of the stream's share (its part of the bytes written, a proportional estimate: whatever
    else RocksDB frees meanwhile, such as WAL files, counts too), and until a stream of the
    same name can be created again;
 7. SIGTERM until exit.

The issue's targets are printed next to each figure. Run it from the repository root on an
otherwise idle machine (the full layout takes minutes and a few GB of disk):

    bench/scale.py [--riffled build/server/riffled/riffled] [--layout 9x1000,9x100,1x90]
                   [--mb-per-stream 2] [--seconds 20] [--data-dir DIR] [--keep]
    bench/scale.py --quick      # 2x100,2x10, 0.2 MB a stream, 3 s: checks the script itself
"""

import argparse
import concurrent.futures
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.exceptions
from botocore.config import Config

RECORD_BYTES = 100
BATCH_RECORDS = 500
FILL_THREADS = 8
LOAD_THREADS = 4
IDLE_WAIT_S = 10
BASELINE_SHARDS = 10
START_DEADLINE_S = 600  # the old layout took 31.7 s to restart at 10,000 shards; leave room
DELETE_DISK_WAIT_S = 120
DELETE_STALL_S = 30
MAX_HASH = 2**128 - 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_layout(text):
    """'9x1000,10x100' -> [(stream name, shard count), ...], largest streams first."""
    streams = []
    for part in text.split(","):
        count, shards = (int(x) for x in part.strip().lower().split("x"))
        for i in range(count):
            streams.append((f"scale-{shards}-{i}", shards))
    streams.sort(key=lambda s: -s[1])
    return streams


def dir_bytes(path):
    """Sum of the sizes of the files under path (what `du --apparent-size` counts)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass  # riffled removed it while we walked
    return total


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def error_code(exc):
    if isinstance(exc, botocore.exceptions.ClientError):
        return exc.response.get("Error", {}).get("Code", "ClientError")
    return type(exc).__name__


def mb(n):
    return n / 1e6


class Riffled:
    """One riffled on a data dir that survives restarts, on a Kinesis port fixed for its life.

    The port is chosen here rather than read from the ports file so that the restart can be
    timed from exec: we poll the port before riffled has written anything.
    """

    def __init__(self, binary, data_dir, work_dir, name):
        self.binary = binary
        self.data_dir = data_dir
        self.port = free_port()
        self.ports_file = os.path.join(work_dir, name + ".ports.json")
        self.log_path = os.path.join(work_dir, name + ".log")
        self.proc = None
        self.exec_time = None

    def command(self):
        return [self.binary, "--data-dir", self.data_dir, "--kinesis-port", str(self.port),
                "--grpc-port", "0", "--metrics-port", "0", "--console-port", "0",
                "--fsync=always", "--shard-quotas=off", "--ports-file", self.ports_file]

    def start(self):
        if os.path.exists(self.ports_file):
            os.unlink(self.ports_file)
        with open(self.log_path, "ab") as log:
            self.exec_time = time.monotonic()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def wait_first_answer(self):
        """Seconds from exec until a ListStreams call succeeds."""
        # One attempt per call and short timeouts: a retry would hide when the port came up.
        probe = self.client(connect_timeout=0.5, read_timeout=5, retries=False)
        deadline = self.exec_time + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"riffled exited with {self.proc.returncode} during its "
                                   f"start\n{self.log_tail()}")
            try:
                probe.list_streams(Limit=1)
                return time.monotonic() - self.exec_time
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                # Port not open yet, or an error answer while starting: not yet serving.
                time.sleep(0.02)
        raise RuntimeError(f"riffled did not answer within {START_DEADLINE_S} s\n"
                           + self.log_tail())

    def stop(self):
        """SIGTERM; (seconds until exit, exit code)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=START_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return time.monotonic() - start, rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case the run stopped it (baseline)
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def client(self, connect_timeout=10, read_timeout=600, retries=True):
        cfg = dict(connect_timeout=connect_timeout, read_timeout=read_timeout,
                   max_pool_connections=16)
        # Without retries a slow control call cannot be sent twice (a second DeleteStream
        # would answer ResourceNotFound and hide the time of the first).
        cfg["retries"] = {"max_attempts": 5} if retries else {"total_max_attempts": 1}
        # A session per client: boto3's default session is not safe to share between threads.
        return boto3.session.Session().client(
            "kinesis", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x", config=Config(**cfg))

    def log_tail(self, limit=4000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return "----- riffled log (tail) -----\n" + text[-limit:]


def list_open_shards(kinesis, stream):
    """[(shard id, starting hash key)] of the stream's open shards."""
    shards, token = [], None
    while True:
        out = (kinesis.list_shards(NextToken=token) if token
               else kinesis.list_shards(StreamName=stream))
        for s in out["Shards"]:
            if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {}):
                shards.append((s["ShardId"], int(s["HashKeyRange"]["StartingHashKey"])))
        token = out.get("NextToken")
        if not token:
            return shards


def wait_active(kinesis, stream, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError(f"stream {stream} not ACTIVE after {timeout} s")


def create_layout(kinesis, streams):
    """Creates every stream and waits for each to be ACTIVE; returns the seconds it took."""
    start = time.monotonic()
    for name, shards in streams:
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        wait_active(kinesis, name)
    return time.monotonic() - start


def random_batch(count, payload):
    """A PutRecords batch with random partition keys, so the records spread over all shards."""
    return [{"Data": payload, "PartitionKey": "%032x" % random.getrandbits(128)}
            for _ in range(count)]


def put_all(kinesis, stream, records):
    """PutRecords until every record is in; returns how many calls it took."""
    calls = 0
    while records:
        calls += 1
        out = kinesis.put_records(StreamName=stream, Records=records)
        if not out.get("FailedRecordCount"):
            return calls
        # Only the failed ones again, in their order.
        records = [r for r, res in zip(records, out["Records"]) if "ErrorCode" in res]
        time.sleep(0.05)
    return calls


def fill_streams(daemon, streams, shard_starts, mb_per_stream):
    """Puts mb_per_stream MB into every stream with FILL_THREADS threads; (records, seconds).

    The first record for each shard carries that shard's starting hash key, so every shard holds
    data however small the fill; the rest have random partition keys.
    """
    payload = os.urandom(RECORD_BYTES)  # random: compression must not make the fill smaller
    per_stream = max(1, int(mb_per_stream * 1e6 / RECORD_BYTES))
    jobs = []
    for name, _ in streams:
        starts = shard_starts[name]
        records = [{"Data": payload, "PartitionKey": "p", "ExplicitHashKey": str(h)}
                   for _, h in starts[:per_stream]]
        records += random_batch(per_stream - len(records), payload)
        for i in range(0, len(records), BATCH_RECORDS):
            jobs.append((name, records[i:i + BATCH_RECORDS]))
    random.shuffle(jobs)  # spread the streams over time, as many producers would
    local = threading.local()

    def put(job):
        if not hasattr(local, "kinesis"):
            local.kinesis = daemon.client()
        put_all(local.kinesis, job[0], job[1])

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(FILL_THREADS) as pool:
        list(pool.map(put, jobs))
    return per_stream * len(streams), time.monotonic() - start


def wait_all_writable(daemon, streams, shard_starts):
    """Seconds from exec until one record aimed at each shard of each stream is accepted.

    Failed records and failed calls (the stream not loaded yet, the port not open yet) are sent
    again until every shard has taken one.
    """
    payload = os.urandom(RECORD_BYTES)
    batches = []
    for name, _ in streams:
        records = [{"Data": payload, "PartitionKey": "p", "ExplicitHashKey": str(h)}
                   for _, h in shard_starts[name]]
        batches += [(name, records[i:i + BATCH_RECORDS])
                    for i in range(0, len(records), BATCH_RECORDS)]
    local = threading.local()

    def put(batch):
        name, records = batch
        if not hasattr(local, "kinesis"):
            local.kinesis = daemon.client(connect_timeout=0.5, read_timeout=60, retries=False)
        while records:
            try:
                out = local.kinesis.put_records(StreamName=name, Records=records)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                time.sleep(0.05)
                continue
            records = [r for r, res in zip(records, out["Records"]) if "ErrorCode" in res]
            if records:
                time.sleep(0.05)

    with concurrent.futures.ThreadPoolExecutor(FILL_THREADS) as pool:
        list(pool.map(put, batches))
    return time.monotonic() - daemon.exec_time


def put_load(daemon, stream, seconds):
    """Records/s accepted by PutRecords (500 x 100 B, LOAD_THREADS threads) for `seconds`."""
    payload = os.urandom(RECORD_BYTES)
    # Prepared ahead: building 500 random keys per call would cost the client more CPU than the
    # call itself, and the client shares the 2 cores with riffled.
    batches = [random_batch(BATCH_RECORDS, payload) for _ in range(16)]
    clients = [daemon.client() for _ in range(LOAD_THREADS)]
    counts = [0] * LOAD_THREADS
    stop_at = time.monotonic() + seconds

    def run(i):
        n = 0
        while time.monotonic() < stop_at:
            out = clients[i].put_records(StreamName=stream, Records=batches[n % len(batches)])
            counts[i] += len(out["Records"]) - out.get("FailedRecordCount", 0)
            n += 1

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(run, range(LOAD_THREADS)))
    return sum(counts) / (time.monotonic() - start)


def baseline_throughput(binary, work_dir, seconds):
    """The same load on a separate fresh node holding one BASELINE_SHARDS-shard stream."""
    data_dir = os.path.join(work_dir, "baseline-data")
    daemon = Riffled(binary, data_dir, work_dir, "riffled-baseline")
    daemon.start()
    try:
        daemon.wait_first_answer()
        kinesis = daemon.client()
        kinesis.create_stream(StreamName="baseline", ShardCount=BASELINE_SHARDS)
        wait_active(kinesis, "baseline")
        return put_load(daemon, "baseline", seconds)
    finally:
        daemon.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def wait_disk_settled(path, tolerance, quiet_s=5, timeout=60):
    """Waits until the dir's size has moved by less than `tolerance` for quiet_s seconds (at
    most `timeout`); returns the seconds waited.

    The flushes, compactions and WAL recycling that follow the load free or add far more than
    one stream's share of the disk; measured in the middle of them, a DeleteStream would be
    credited with (or blamed for) their work.
    """
    start = time.monotonic()
    window = []
    while time.monotonic() - start < timeout:
        window.append((time.monotonic(), dir_bytes(path)))
        window = [(t, size) for t, size in window if t >= window[-1][0] - quiet_s]
        sizes = [size for _, size in window]
        if window[-1][0] - start >= quiet_s and max(sizes) - min(sizes) < tolerance:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def delete_and_recreate(daemon, stream, shards, share_bytes):
    """DeleteStream of `stream`, then CreateStream of the same name as soon as it is taken.

    Returns a dict of seconds since the DeleteStream call: 'answer', 'gone' (DescribeStream says
    ResourceNotFound), 'recreated' (CreateStream of the same name accepted), 'refusals' (error
    codes of the CreateStream calls refused before), 'disk' (data dir shrunk by 80 % of
    share_bytes, or None), 'freed' (bytes it shrank by) and 'disk_note'.
    """
    kinesis = daemon.client(read_timeout=3600, retries=False)
    before = dir_bytes(daemon.data_dir)
    samples = []  # (seconds since the call, data dir bytes)
    done = threading.Event()

    def watch_disk():
        # Until 80 % of the stream's share is free, or the dir has stopped shrinking for
        # DELETE_STALL_S (the data may sit in the WAL, which a drop does not free), or
        # DELETE_DISK_WAIT_S in all.
        last_drop = 0.0
        smallest = before
        while True:
            t = time.monotonic() - start
            size = dir_bytes(daemon.data_dir)
            samples.append((t, size))
            if size < smallest:
                smallest, last_drop = size, t
            if before - size >= 0.8 * share_bytes:
                return
            if t >= DELETE_DISK_WAIT_S or (done.is_set() and t - last_drop >= DELETE_STALL_S):
                return
            # Walking a data dir of thousands of files costs CPU the node shares.
            time.sleep(0.5)

    start = time.monotonic()
    watcher = threading.Thread(target=watch_disk, daemon=True)
    watcher.start()
    kinesis.delete_stream(StreamName=stream)
    result = {"answer": time.monotonic() - start, "gone": None, "refusals": []}
    # DescribeStream before each CreateStream: once the name is taken again, DescribeStream
    # shows the new stream and the old one's disappearance can no longer be seen.
    while True:
        if result["gone"] is None:
            try:
                kinesis.describe_stream(StreamName=stream, Limit=1)
            except botocore.exceptions.ClientError as e:
                if error_code(e) == "ResourceNotFoundException":
                    result["gone"] = time.monotonic() - start
        try:
            kinesis.create_stream(StreamName=stream, ShardCount=shards)
            result["recreated"] = time.monotonic() - start
            break
        except botocore.exceptions.ClientError as e:
            code = error_code(e)
            if not result["refusals"] or result["refusals"][-1] != code:
                result["refusals"].append(code)
            if time.monotonic() - start > START_DEADLINE_S:
                raise
            time.sleep(0.1)
    wait_active(kinesis, stream)
    done.set()
    watcher.join()
    t_end, size_end = samples[-1]
    result["freed"] = before - min(size for _, size in samples)
    result["disk"] = next((t for t, size in samples if before - size >= 0.8 * share_bytes), None)
    result["disk_note"] = (f"{mb(before):.1f} MB before, {mb(size_end):.1f} MB after "
                           f"{t_end:.1f} s")
    return result


class Report:
    """Prints each figure as it is taken and keeps it for the Markdown rows at the end."""

    def __init__(self):
        self.rows = []

    def add(self, measure, figure, target=""):
        print(f"{measure}: {figure}" + (f"   (target {target})" if target else ""), flush=True)
        self.rows.append((measure, figure, target))

    def markdown(self):
        lines = ["| measure | this run | target (issue 20) |", "|---|---|---|"]
        lines += [f"| {m} | {f} | {t} |" for m, f, t in self.rows]
        return "\n".join(lines)


def run(args, work_dir, data_dir):
    streams = parse_layout(args.layout)
    total_shards = sum(s for _, s in streams)
    report = Report()
    print(f"layout {args.layout}: {len(streams)} streams, {total_shards:,} shards; "
          f"{args.mb_per_stream} MB a stream; riffled {args.riffled}; data dir {data_dir}",
          flush=True)

    daemon = Riffled(args.riffled, data_dir, work_dir, "riffled")
    daemon.start()
    try:
        daemon.wait_first_answer()
        empty_rss = rss_bytes(daemon.pid)
        kinesis = daemon.client()

        seconds = create_layout(kinesis, streams)
        report.add(f"CreateStream, {len(streams)} streams, {total_shards:,} shards, until ACTIVE",
                   f"{seconds:.1f} s")
        shard_starts = {name: list_open_shards(kinesis, name) for name, _ in streams}
        # Bytes written per stream, to know the share of the data dir a deleted stream frees.
        written = {name: 0 for name, _ in streams}

        records, seconds = fill_streams(daemon, streams, shard_starts, args.mb_per_stream)
        for name, _ in streams:
            written[name] += records // len(streams) * RECORD_BYTES
        report.add(f"fill, {records:,} records x {RECORD_BYTES} B",
                   f"{seconds:.1f} s, {records / seconds:,.0f} records/s, "
                   f"{mb(records * RECORD_BYTES) / seconds:.1f} MB/s")

        time.sleep(IDLE_WAIT_S)  # let flushes and compactions after the fill settle
        idle_rss = rss_bytes(daemon.pid)
        per_shard = (idle_rss - empty_rss) / total_shards
        report.add(f"RSS idle, {IDLE_WAIT_S} s after the fill",
                   f"{idle_rss / 2**20:.0f} MB, {idle_rss / total_shards / 1024:.1f} KiB a shard "
                   f"({per_shard / 1024:.1f} KiB a shard above the empty node's "
                   f"{empty_rss / 2**20:.0f} MB)", "≤ 512 MB")

        seconds, rc = daemon.stop()
        report.add("SIGTERM to exit (before restart)", f"{seconds:.2f} s, exit code {rc}",
                   "≤ 10 s")
        daemon.start()
        seconds = daemon.wait_first_answer()
        report.add("restart: exec to first answered ListStreams", f"{seconds:.2f} s", "≤ 2 s")
        seconds = wait_all_writable(daemon, streams, shard_starts)
        for name, _ in streams:
            written[name] += len(shard_starts[name]) * RECORD_BYTES
        report.add(f"restart: exec to all {total_shards:,} shards writable", f"{seconds:.2f} s",
                   "≤ 10 s")
        report.add("RSS once all shards are writable", f"{rss_bytes(daemon.pid) / 2**20:.0f} MB")

        big, big_shards = streams[0]
        rate = put_load(daemon, big, args.seconds)
        written[big] += int(rate * args.seconds) * RECORD_BYTES
        report.add(f"PutRecords {BATCH_RECORDS} x {RECORD_BYTES} B, {LOAD_THREADS} threads, "
                   f"{args.seconds} s, {big_shards:,}-shard stream, {total_shards:,} shards on "
                   f"the node", f"{rate:,.0f} records/s")
        same_node = None
        try:
            kinesis.create_stream(StreamName="scale-fresh-10", ShardCount=BASELINE_SHARDS)
            wait_active(kinesis, "scale-fresh-10")
            same_node = put_load(daemon, "scale-fresh-10", args.seconds)
            # Kept, not deleted: its files going away would be counted as the deleted stream's.
            written["scale-fresh-10"] = int(same_node * args.seconds) * RECORD_BYTES
            figure = f"{same_node:,.0f} records/s"
        except botocore.exceptions.ClientError as e:
            # At the default layout the node is at riffled's shard limit (10,000).
            figure = f"not measured: CreateStream refused ({error_code(e)})"
        report.add(f"same load, fresh {BASELINE_SHARDS}-shard stream on this node", figure)
        # The big node is stopped (SIGSTOP) meanwhile, so its flushes and compactions do not
        # take the baseline's CPU: the two figures then differ by the shard count alone.
        os.kill(daemon.pid, signal.SIGSTOP)
        try:
            base = baseline_throughput(args.riffled, work_dir, args.seconds)
        finally:
            os.kill(daemon.pid, signal.SIGCONT)
        report.add(f"same load, fresh node with one {BASELINE_SHARDS}-shard stream",
                   f"{base:,.0f} records/s")
        # The ratio: the same load on a 10-shard stream, with and without the other
        # shards on the node. Without room for that stream, the big stream's rate stands in
        # (which also pays for writing 100 times as many shards at once).
        compared = same_node if same_node is not None else rate
        report.add(f"throughput of a {BASELINE_SHARDS}-shard stream, node with "
                   f"{total_shards + (BASELINE_SHARDS if same_node else 0):,} shards / alone",
                   f"{100 * compared / base:.0f} %", "≥ 90 %")

        # A stream of the largest size other than the one just loaded, so its share of the
        # disk is that of an ordinary stream of the layout.
        victim, victim_shards = streams[1] if len(streams) > 1 and streams[1][1] == big_shards \
            else streams[0]
        share = dir_bytes(data_dir) * written[victim] / sum(written.values())
        waited = wait_disk_settled(data_dir, tolerance=0.05 * share)
        print(f"(data dir settled after {waited:.0f} s at {mb(dir_bytes(data_dir)):.1f} MB)",
              flush=True)
        result = delete_and_recreate(daemon, victim, victim_shards, share)
        report.add(f"DeleteStream of a {victim_shards:,}-shard stream: answered",
                   f"{result['answer']:.2f} s", "≤ 1 s")
        report.add("DeleteStream: DescribeStream says ResourceNotFound",
                   f"{result['gone']:.2f} s" if result["gone"] is not None
                   else "not seen (the name was taken again first)")
        disk = (f"{result['disk']:.1f} s" if result["disk"] is not None
                else f"not reached: {mb(result['freed']):.1f} MB freed")
        report.add(f"DeleteStream: data dir shrunk by 80 % of the stream's share "
                   f"({mb(share):.1f} MB)", f"{disk} ({result['disk_note']})", "≤ 60 s")
        refusals = ", ".join(result["refusals"]) or "none"
        report.add("CreateStream of the same name, from the DeleteStream call",
                   f"{result['recreated']:.2f} s (refused before: {refusals})", "at once")

        seconds, rc = daemon.stop()
        report.add("SIGTERM to exit (end)", f"{seconds:.2f} s, exit code {rc}", "≤ 10 s")
    except BaseException:
        sys.stderr.write(daemon.log_tail() + "\n")
        raise
    finally:
        daemon.kill()

    print()
    print(f"{total_shards:,} shards ({args.layout}), {args.mb_per_stream} MB a stream, "
          f"fsync always, shard quotas off, one run:")
    print()
    print(report.markdown())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--riffled", default=os.environ.get("RIFFLED") or os.path.join(
        root, "build/server/riffled/riffled"))
    parser.add_argument("--layout", default="9x1000,9x100,1x90",
                        help="streams as COUNTxSHARDS, comma-separated")
    parser.add_argument("--mb-per-stream", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of each throughput measurement")
    parser.add_argument("--data-dir", help="fresh (absent or empty) data dir; kept at the end")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (data dir, logs)")
    parser.add_argument("--quick", action="store_true",
                        help="layout 2x100,2x10, 0.2 MB a stream, 3 s: to check the script")
    args = parser.parse_args()
    if args.quick:
        args.layout, args.mb_per_stream, args.seconds = "2x100,2x10", 0.2, 3.0
    if not os.access(args.riffled, os.X_OK):
        sys.exit(f"no riffled at {args.riffled} (build it, or give --riffled or RIFFLED)")

    work_dir = tempfile.mkdtemp(prefix="riffle-scale-")
    data_dir = args.data_dir or os.path.join(work_dir, "data")
    if args.data_dir and os.path.isdir(data_dir) and os.listdir(data_dir):
        sys.exit(f"--data-dir {data_dir} is not empty: the benchmark needs a fresh one")
    try:
        run(args, work_dir, data_dir)
    finally:
        if args.keep:
            print(f"\nkept {work_dir} (logs{', data dir' if not args.data_dir else ''})")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
