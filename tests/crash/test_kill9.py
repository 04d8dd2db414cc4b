"""kill -9 durability loop over the Kinesis HTTP API.

riffled runs with --fsync=always. Writer threads put records with boto3
(PutRecord and PutRecords) on a 3-shard stream and log every acknowledged
record (shard, sequence number, data). The daemon is killed with SIGKILL
while writes are in flight, restarted on the same data dir, and the whole
stream is read back. Every acknowledged record must be there exactly once,
on its shard, with its sequence number and data; shards read in strictly
increasing sequence order; an unacknowledged record appears at most once;
nothing appears that was never written; and a record seen after one restart
stays, unchanged, after every later one. Several rounds, each appending more.

Each round also creates a scratch stream, writes to it and deletes it right before the kill,
so kills land while the store drops a deleted stream's records in the background: the
scratch stream stays gone after the restart, and its name can be used again.
RIFFLE_KILL_ROUNDS sets the number of rounds (default 10, within a time budget in CI).
"""

import os
import random
import sys
import threading
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "kinesis_http"))

from harness import RiffledTestCase, read_all_records, shard_id, wait_for  # noqa: E402

ROUNDS = int(os.environ.get("RIFFLE_KILL_ROUNDS", "10"))
WRITERS = 4
SHARDS = 3
TIME_BUDGET_S = 60 if "RIFFLE_KILL_ROUNDS" not in os.environ else float("inf")
SCRATCH_SHARDS = 20


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.attempted = set()     # data of every record ever sent
        self.acked = {}            # data -> (shard id, sequence number)
        self.acked_order = {}      # writer -> [(shard id, sequence number)] in ack order
        self.early_errors = []     # errors seen while the daemon was meant to be up

    def attempt(self, datas):
        with self.lock:
            self.attempted.update(datas)

    def ack(self, writer, data, shard, seq):
        with self.lock:
            assert data not in self.acked, data
            self.acked[data] = (shard, seq)
            self.acked_order.setdefault(writer, []).append((shard, seq))

    def count(self):
        with self.lock:
            return len(self.acked)


def writer(client, stream, round_no, w, ledger, stop, killed_at):
    rng = random.Random(f"{round_no}-{w}")
    n = 0
    while not stop.is_set():
        try:
            if rng.random() < 0.5:
                data = f"r{round_no}-w{w}-{n}"
                n += 1
                ledger.attempt([data])
                out = client.put_record(StreamName=stream, Data=data.encode(),
                                        PartitionKey=f"pk-{rng.randrange(1000)}")
                ledger.ack(w, data, out["ShardId"], out["SequenceNumber"])
            else:
                batch = []
                for _ in range(rng.randint(1, 25)):
                    batch.append(f"r{round_no}-w{w}-{n}")
                    n += 1
                ledger.attempt(batch)
                out = client.put_records(StreamName=stream, Records=[
                    {"Data": d.encode(), "PartitionKey": f"pk-{rng.randrange(1000)}"}
                    for d in batch])
                if len(out["Records"]) != len(batch):
                    raise AssertionError(f"PutRecords answered {len(out['Records'])} of "
                                         f"{len(batch)} entries")
                for d, r in zip(batch, out["Records"]):
                    if "ErrorCode" not in r:
                        ledger.ack(w, d, r["ShardId"], r["SequenceNumber"])
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                AssertionError) as e:
            if killed_at[0] is None:
                with ledger.lock:
                    ledger.early_errors.append(f"writer {w}: {e!r}")
            return


class Kill9Test(RiffledTestCase):
    riffled_args = ("--fsync=always", "--shard-quotas=off")

    def read_stream(self, stream):
        client = self.riffled.client()
        return {shard_id(i): read_all_records(client, stream, shard_id(i))
                for i in range(SHARDS)}

    def verify(self, stream, ledger, seen, round_no):
        shards = self.read_stream(stream)
        where = {}
        for sid, recs in shards.items():
            seqs = [int(r["SequenceNumber"]) for r in recs]
            self.assertEqual(seqs, sorted(set(seqs)),
                             f"round {round_no}: {sid} is not in strictly increasing order")
            for r in recs:
                data = r["Data"].decode()
                self.assertNotIn(data, where, f"round {round_no}: {data} stored twice")
                where[data] = (sid, r["SequenceNumber"])
        phantom = set(where) - ledger.attempted
        self.assertEqual(phantom, set(), f"round {round_no}: records never written")
        lost = {d: v for d, v in ledger.acked.items() if where.get(d) != v}
        self.assertEqual(lost, {}, f"round {round_no}: acknowledged records lost or changed "
                                   f"(data -> acked (shard, seq)); found instead: "
                                   f"{ {d: where.get(d) for d in list(lost)[:10]} }")
        changed = {d: v for d, v in seen.items() if where.get(d) != v}
        self.assertEqual(changed, {}, f"round {round_no}: records seen after an earlier "
                                      f"restart vanished or moved")
        for w, acks in ledger.acked_order.items():
            for sid in {s for s, _ in acks}:
                mine = [int(q) for s, q in acks if s == sid]
                self.assertEqual(mine, sorted(mine),
                                 f"writer {w} got decreasing sequence numbers on {sid}")
        seen.update(where)
        return sum(len(r) for r in shards.values())

    def kinesis_names(self):
        return self.riffled.client().list_streams()["StreamNames"]

    def churn_scratch_stream(self, round_no):
        """Creates the round's scratch stream (the name of the round before last, used again),
        writes to every shard of it and deletes it; returns its name."""
        client = self.riffled.client()
        name = f"scratch-{round_no % 2}"
        client.create_stream(StreamName=name, ShardCount=SCRATCH_SHARDS)
        wait_for(lambda: client.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 20, what=f"{name} ACTIVE")
        client.put_records(StreamName=name, Records=[
            {"Data": b"scratch", "PartitionKey": f"k{i}"} for i in range(200)])
        client.delete_stream(StreamName=name)
        return name

    def test_acknowledged_writes_survive_kill_9(self):
        started = time.monotonic()
        stream = self.create_stream(shards=SHARDS)
        ledger, seen = Ledger(), {}
        rounds_done = 0
        for round_no in range(ROUNDS):
            if rounds_done >= 5 and time.monotonic() - started > TIME_BUDGET_S:
                break
            stop, killed_at = threading.Event(), [None]
            clients = [self.riffled.client(retries=False, connect_timeout=3, read_timeout=15,
                                           max_pool_connections=2, user_agent_extra=f"w{w}")
                       for w in range(WRITERS)]
            before = ledger.count()
            threads = [threading.Thread(target=writer, args=(clients[w], stream, round_no, w,
                                                             ledger, stop, killed_at))
                       for w in range(WRITERS)]
            for t in threads:
                t.start()
            wait_for(lambda: ledger.count() >= before + 50 or not any(
                t.is_alive() for t in threads), 20, what="writes to be acknowledged")
            self.assertEqual(ledger.early_errors, [])
            scratch = self.churn_scratch_stream(round_no)
            time.sleep(random.uniform(0.0, 0.3))  # kill at an arbitrary moment of the load
            killed_at[0] = time.monotonic()
            self.assertTrue(all(t.is_alive() for t in threads), "writers stopped early")
            self.riffled.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            self.assertFalse(any(t.is_alive() for t in threads), "a writer hung after kill -9")
            self.assertEqual(ledger.early_errors, [])
            self.riffled.start()
            self.assertNotIn(scratch, self.kinesis_names(),
                             f"round {round_no}: the deleted {scratch} came back")
            total = self.verify(stream, ledger, seen, round_no)
            rounds_done += 1
            print(f"round {round_no}: {ledger.count()} acknowledged, {total} stored, "
                  f"{len(ledger.attempted)} attempted", flush=True)
        self.assertGreaterEqual(rounds_done, 5)
        # A last graceful restart keeps everything too (tearDown checks exit 0).
        self.riffled.restart(graceful=True)
        self.verify(stream, ledger, seen, "final")

    def test_sigterm_under_load_drains_and_exits_0(self):
        stream = self.create_stream(shards=SHARDS)
        ledger, seen = Ledger(), {}
        stop, killed_at = threading.Event(), [None]
        clients = [self.riffled.client(retries=False, connect_timeout=3, read_timeout=15,
                                       max_pool_connections=2, user_agent_extra=f"t{w}")
                   for w in range(WRITERS)]
        threads = [threading.Thread(target=writer, args=(clients[w], stream, 0, w, ledger,
                                                         stop, killed_at))
                   for w in range(WRITERS)]
        for t in threads:
            t.start()
        wait_for(lambda: ledger.count() >= 100 or not any(t.is_alive() for t in threads), 20,
                 what="writes to be acknowledged")
        self.assertEqual(ledger.early_errors, [])
        self.assertTrue(all(t.is_alive() for t in threads), "writers stopped early")
        killed_at[0] = time.monotonic()
        rc = self.riffled.stop(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(rc, 0, "SIGTERM while writes are in flight must still exit 0")
        self.riffled.start()
        self.verify(stream, ledger, seen, "after SIGTERM")


if __name__ == "__main__":
    unittest.main()
