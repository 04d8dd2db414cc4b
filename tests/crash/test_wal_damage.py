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
        self.assertEqual(self.riffled.stop(), 0)

    def test_a_last_record_cut_short_starts_as_after_a_crash(self):
        wal = self.wal()
        os.truncate(wal, os.path.getsize(wal) - 5)
        self.riffled.start()
        self.assertEqual(self.read_back(), self.acked[:-1])
        self.assertEqual(self.riffled.stop(), 0)

    def test_a_damaged_table_file_stops_riffled_with_the_file_named(self):
        # A restart replays the log into table files; damage the shard's, whose last record
        # riffled reads at start to know where the shard ends.
        self.riffled.start()
        self.assertEqual(self.riffled.stop(), 0)
        tables = [os.path.join(self.riffled.data_dir, name)
                  for name in os.listdir(self.riffled.data_dir) if name.endswith(".sst")]
        self.assertTrue(tables, "the restart left no table file")
        table = max(tables, key=os.path.getsize)  # the shard's, not the catalog's
        flip_byte(table, 100)
        with self.assertRaises(AssertionError) as refused:
            self.riffled.start()
        # A clean exit with the reason, not a crash.
        self.assertIn("exited with 1", str(refused.exception))
        log = self.riffled.log_tail()
        self.assertIn("Corruption", log)
        self.assertIn(os.path.basename(table), log)

    def test_a_table_damaged_between_first_and_last_record_is_reported_at_start(self):
        # 16 KiB blocks: the shard's ~45 KiB table holds its first record in the first block,
        # its last in the last, and damage in a middle block is met by no read at start. The
        # check of every table at start finds it; riffled serves what is intact meanwhile.
        self.riffled.start()
        self.assertEqual(self.riffled.stop(), 0)
        tables = [os.path.join(self.riffled.data_dir, name)
                  for name in os.listdir(self.riffled.data_dir) if name.endswith(".sst")]
        table = max(tables, key=os.path.getsize)
        self.assertGreater(os.path.getsize(table), 40 * 1024)
        flip_byte(table, 24 * 1024)
        self.riffled.start()
        wait_for(lambda: "1 damaged" in self.riffled.log_text(), timeout=30,
                 what="the table check's report")
        self.assertRegex(self.riffled.log_text(),
                         f"the table file \\S*{os.path.basename(table)} .* is damaged")
        kinesis = self.riffled.client(retries=False)
        # The intact last block reads as written; a read that meets the damage fails, never
        # returning its bytes as records.
        last = kinesis.get_shard_iterator(StreamName="kept", ShardId=shard_id(0),
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=self.acked[-1])["ShardIterator"]
        self.assertEqual([r["SequenceNumber"] for r in kinesis.get_records(
            ShardIterator=last, Limit=10)["Records"]], self.acked[-1:])
        with self.assertRaises(botocore.exceptions.ClientError) as failed:
            first = kinesis.get_shard_iterator(StreamName="kept", ShardId=shard_id(0),
                                               ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            kinesis.get_records(ShardIterator=first, Limit=RECORDS)
        self.assertIn("Corruption", str(failed.exception))
        self.assertEqual(failed.exception.response["Error"]["Code"], "InternalFailureException")
        self.assertEqual(self.riffled.stop(), 0)

if __name__ == "__main__":
    unittest.main()
