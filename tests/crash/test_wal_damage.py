"""A damaged write-ahead log against the real riffled.

A byte flipped in the middle of the log, with acknowledged records after it, must stop riffled
at start with the file named (RocksDB alone would replay up to the damage and drop the rest
without a word); --accept-wal-damage starts it with what precedes the damage. A log whose last
record is cut short, as a crash leaves it, starts as always. A damaged table file is never
served as data: riffled reads each shard's first and last records at start, and stops there
with the file named; damage elsewhere in a table is reported by the check of every table file
that runs in the background after the start.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "kinesis_http"))

import botocore.exceptions  # noqa: E402
from harness import RiffledProcess, read_all_records, shard_id, wait_for  # noqa: E402

RECORDS = 200
TABLE_RECORDS = 100  # 20 MiB: past the 16 MiB memtable of the records


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


class WalDamageTest(unittest.TestCase):
    def setUp(self):
        self.riffled = RiffledProcess(["--fsync=always", "--shard-quotas=off"])
        self.addCleanup(self.riffled.cleanup)
        self.riffled.start()
        kinesis = self.riffled.client()
        kinesis.create_stream(StreamName="kept", ShardCount=1)
        # One PutRecord a log record: damage in the middle leaves intact records after it.
        # Random bytes do not compress: the shard's table file is the largest (see below).
        self.acked = [kinesis.put_record(StreamName="kept", Data=os.urandom(200),
                                         PartitionKey="p")["SequenceNumber"]
                      for i in range(RECORDS)]
        self.assertEqual(self.riffled.stop(), 0)

    def wal(self):
        logs = [name for name in os.listdir(self.riffled.data_dir)
                if name.endswith(".log") and os.path.getsize(
                    os.path.join(self.riffled.data_dir, name)) > 0]
        self.assertEqual(len(logs), 1, f"expected one write-ahead log: {logs}")
        return os.path.join(self.riffled.data_dir, logs[0])

    def read_back(self):
        return [r["SequenceNumber"]
                for r in read_all_records(self.riffled.client(), "kept", shard_id(0))]

    def test_damage_in_the_middle_stops_riffled_with_the_file_named(self):
        wal = self.wal()
        flip_byte(wal, os.path.getsize(wal) // 2)
        with self.assertRaises(AssertionError) as refused:
            self.riffled.start()
        self.assertIn("exited with 1", str(refused.exception))
        log = self.riffled.log_tail()
        self.assertIn(f"the write-ahead log {os.path.basename(wal)}", log)
        self.assertIn("--accept-wal-damage", log)
        # Nothing was replayed or deleted: the damaged log is still there for the operator.
        self.assertTrue(os.path.exists(wal))
        self.riffled.extra_args.append("--accept-wal-damage")
        self.riffled.start()
        kept = self.read_back()
        self.assertGreater(len(kept), 0)
        self.assertLess(len(kept), RECORDS)
        self.assertEqual(kept, self.acked[:len(kept)], "what is kept is the log's first part")
        self.assert_later_starts_need_nothing(kept)

    def assert_later_starts_need_nothing(self, kept):
        """The start that replayed a damaged log retired it: after more writes, the next start
        needs no flag and finds no damage followed by intact records."""
        put = self.riffled.client().put_record(StreamName="kept", Data=b"after", PartitionKey="p")
        self.assertEqual(self.riffled.stop(), 0)
        if "--accept-wal-damage" in self.riffled.extra_args:
            self.riffled.extra_args.remove("--accept-wal-damage")
        self.riffled.start()
        self.assertEqual(self.read_back(), kept + [put["SequenceNumber"]])
        self.assertEqual(self.riffled.stop(), 0)

    def test_a_last_record_cut_short_starts_as_after_a_crash(self):
        wal = self.wal()
        os.truncate(wal, os.path.getsize(wal) - 5)
        self.riffled.start()
        self.assertEqual(self.read_back(), self.acked[:-1])
        self.assert_later_starts_need_nothing(self.acked[:-1])

    def write_a_table(self):
        """Fills a stream's shard past its 8 MiB memtable with 200 KiB records, so that RocksDB
        flushes them into a table file of one record per 16 KiB-block run; returns the table's
        path and the records as written. Recovered records are not flushed at start, so a
        restart alone makes no table file."""
        self.riffled.start()
        kinesis = self.riffled.client()
        kinesis.create_stream(StreamName="big", ShardCount=1)
        written = []
        for _ in range(TABLE_RECORDS):
            data = os.urandom(200 * 1024)
            put = kinesis.put_record(StreamName="big", Data=data, PartitionKey="p")
            written.append((put["SequenceNumber"], data))

        def flushed():
            tables = [os.path.join(self.riffled.data_dir, name)
                      for name in os.listdir(self.riffled.data_dir) if name.endswith(".sst")]
            big = [t for t in tables if os.path.getsize(t) > 4 * 1024 * 1024]
            return big[0] if big else None
        table = wait_for(flushed, timeout=30, what="the shard's memtable flushed to a table")
        self.assertEqual(self.riffled.stop(), 0)
        return table, written

    def test_a_damaged_table_file_stops_riffled_with_the_file_named(self):
        # The first block holds the shard's first record, which riffled reads at start.
        table, _ = self.write_a_table()
        flip_byte(table, 100)
        with self.assertRaises(AssertionError) as refused:
            self.riffled.start()
        # A clean exit with the reason, not a crash.
        self.assertIn("exited with 1", str(refused.exception))
        log = self.riffled.log_tail()
        self.assertIn("Corruption", log)
        self.assertIn(os.path.basename(table), log)

    def test_a_table_damaged_between_first_and_last_record_is_reported_at_start(self):
        # Damage in the middle of the table is met by no read at start. The check of every
        # table after the start finds it; riffled serves what is intact meanwhile.
        table, written = self.write_a_table()
        flip_byte(table, os.path.getsize(table) // 2)
        self.riffled.start()
        wait_for(lambda: "1 damaged" in self.riffled.log_text(), timeout=30,
                 what="the table check's report")
        self.assertRegex(self.riffled.log_text(),
                         f"the table file \\S*{os.path.basename(table)} .* is damaged")
        kinesis = self.riffled.client(retries=False)
        # The last record reads as written; reading from the start returns intact records as
        # written and then fails on the damage, never returning its bytes as a record.
        last = kinesis.get_shard_iterator(StreamName="big", ShardId=shard_id(0),
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=written[-1][0])["ShardIterator"]
        self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in kinesis.get_records(
            ShardIterator=last, Limit=10)["Records"]], written[-1:])
        served = []
        with self.assertRaises(botocore.exceptions.ClientError) as failed:
            iterator = kinesis.get_shard_iterator(StreamName="big", ShardId=shard_id(0),
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator and len(served) < len(written):
                out = kinesis.get_records(ShardIterator=iterator, Limit=5)
                served += [(r["SequenceNumber"], r["Data"]) for r in out["Records"]]
                iterator = out.get("NextShardIterator")
        self.assertIn("Corruption", str(failed.exception))
        self.assertLess(len(served), len(written))
        self.assertEqual(served, written[:len(served)], "only intact records, as written")
        self.assertEqual(self.riffled.stop(), 0)


if __name__ == "__main__":
    unittest.main()
