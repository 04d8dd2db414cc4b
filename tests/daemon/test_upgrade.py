"""The upgrade of a data directory written by riffled before the `records` layout
(docs/storage-format.md, "Upgrading"): fixtures/layout-column-family-per-shard.tar.gz is a
data directory that riffled wrote with a column family per shard (fixtures/
make_layout_fixture.py: three streams, records in table files and, after a kill -9, in the
write-ahead log only, one stream deleted before the kill), with the sequence numbers and data it
acknowledged. The current riffled opens it, serves every acknowledged record exactly
once and in order, drops the deleted stream's records, takes new writes after the old ones,
and keeps all of it across a restart.
"""

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

from harness import RiffledProcess, read_all_records

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "layout-column-family-per-shard.tar.gz")


def column_families(data_dir):
    """The column family names in the data directory's newest OPTIONS file."""
    options = sorted(name for name in os.listdir(data_dir)
                     if name.startswith("OPTIONS-") and not name.endswith(".dbtmp"))
    with open(os.path.join(data_dir, options[-1])) as f:
        return sorted(line.split('"')[1] for line in f if line.startswith("[CFOptions "))


class UpgradeTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="riffle-upgrade-")
        self.addCleanup(shutil.rmtree, self.work, True)
        with tarfile.open(FIXTURE) as archive:
            archive.extractall(self.work)
        with open(os.path.join(self.work, "acked.json")) as f:
            self.acked = json.load(f)
        self.data_dir = os.path.join(self.work, "data")
        self.assertIn("shard-1-0", column_families(self.data_dir))
        self.riffled = RiffledProcess(["--shard-quotas=off"], data_dir=self.data_dir)
        self.addCleanup(self.riffled.cleanup)

    def assert_serves(self, kinesis, acked):
        for stream, records in acked.items():
            by_shard = {}
            for shard, sequence, data in records:
                by_shard.setdefault(shard, []).append((sequence, bytes.fromhex(data)))
            for shard, expected in by_shard.items():
                served = [(r["SequenceNumber"], r["Data"])
                          for r in read_all_records(kinesis, stream, shard)]
                self.assertEqual(served, expected, f"{stream} {shard}")

    def test_every_acknowledged_record_survives_the_upgrade(self):
        self.riffled.start()
        # The five shards of the two streams left (the deleted stream's column families were
        # dropped before the kill), every record of them, none twice.
        self.assertIn("upgraded the data directory: 300 records of 5 shard column families",
                      self.riffled.log_text())
        self.assertEqual(column_families(self.data_dir), ["catalog", "default", "records"])
        kinesis = self.riffled.client()
        self.assertEqual(sorted(kinesis.list_streams()["StreamNames"]), ["events", "orders"])
        self.assertEqual(sum(len(v) for v in self.acked.values()), 300)
        self.assert_serves(kinesis, self.acked)

        # New writes continue each shard's sequence after the old records.
        for i in range(30):
            put = kinesis.put_record(StreamName="orders", Data=f"after-{i}".encode(),
                                     PartitionKey=f"pk{i}")
            self.acked["orders"].append([put["ShardId"], put["SequenceNumber"],
                                         f"after-{i}".encode().hex()])
        self.assert_serves(kinesis, self.acked)

        self.riffled.kill9()
        self.riffled.start()
        self.assertNotIn("upgraded the data directory",
                         self.riffled.log_text().split("=== start #2")[-1])
        self.assert_serves(self.riffled.client(), self.acked)


if __name__ == "__main__":
    unittest.main()
