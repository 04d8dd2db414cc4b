"""A damaged write-ahead log against the real riffled.

A byte flipped in the middle of the log, with acknowledged records after it, must stop riffled
at start with the file named (RocksDB alone would replay up to the damage and drop the rest
without a word); --accept-wal-damage starts it with what precedes the damage. A log whose last
record is cut short, as a crash leaves it, starts as always. A damaged table file is never
served as data: riffled reads each shard's last record at start, and stops there with the
file named.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "kinesis_http"))

from harness import RiffledProcess, read_all_records, shard_id  # noqa: E402

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

if __name__ == "__main__":
    unittest.main()
