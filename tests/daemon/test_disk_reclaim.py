"""Disk comes back without a restart: `du` of a real riffled's data directory falls after
DeleteStream while another stream keeps being written (the case where a deleted stream's
records stayed in the write-ahead log until a restart), also when riffled is killed right after
the DeleteStream answered (the records are dropped in the background, and the next start drops
what is left); and a deleted stream's name can be used again at once. A retention trim's table files are
checked by storage/shard_log_test (TrimGivesTheTableFilesBack): retention is at least 24 hours,
too long to wait for here.
"""

import os
import subprocess
import threading
import time
import unittest

import botocore.exceptions

from harness import RiffledTestCase, read_all_records, wait_for

MIB = 1024 * 1024


def du_bytes(path):
    """Bytes the files under `path` take on disk, as `du` counts them."""
    out = subprocess.run(["du", "-s", "--block-size=1", path], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[0])


class DiskReclaimTest(RiffledTestCase):
    riffled_args = ("--shard-quotas=off",)

    def fill(self, stream, megabytes):
        record = os.urandom(256 * 1024)  # random: compression cannot shrink it
        entries = [{"PartitionKey": str(i), "Data": record} for i in range(4)]
        for _ in range(megabytes):
            out = self.kinesis.put_records(StreamName=stream, Records=entries)
            self.assertEqual(out["FailedRecordCount"], 0)

    def keep_writing(self, stream):
        """Writes a small record every 50 ms until the test ends: that shard's memtable always
        holds unflushed records, so without help it would keep every log file."""
        stop = threading.Event()

        def run():
            while not stop.is_set():
                try:
                    self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"tick")
                except botocore.exceptions.BotoCoreError:
                    return  # riffled stopped at the end of the test, before this thread
                time.sleep(0.05)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)

    def test_delete_stream_gives_its_disk_back(self):
        data_dir = self.riffled.data_dir
        busy = self.create_stream()
        self.keep_writing(busy)
        time.sleep(0.5)
        baseline = du_bytes(data_dir)
        big = self.create_stream(shards=2)
        self.fill(big, 48)
        filled = du_bytes(data_dir)
        self.assertGreater(filled, baseline + 40 * MIB, "the records did not reach the disk")
        self.kinesis.delete_stream(StreamName=big)
        # Within a bounded time the data directory is back near where it started.
        wait_for(lambda: du_bytes(data_dir) < baseline + 16 * MIB, 60, interval=0.5,
                 what=f"du of {data_dir} to fall (baseline {baseline}, filled {filled})")

    def test_a_deleted_name_can_be_created_again_at_once(self):
        name = self.create_stream(shards=2)
        self.fill(name, 4)
        self.kinesis.delete_stream(StreamName=name)
        # No wait: the old stream's records may still be dropping in the background.
        self.create_stream(name, shards=2)
        put = self.kinesis.put_record(StreamName=name, PartitionKey="new", Data=b"fresh")
        records = read_all_records(self.kinesis, name, put["ShardId"])
        self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in records],
                         [(put["SequenceNumber"], b"fresh")],
                         "the new stream holds only its own record")

    def test_a_kill_right_after_delete_stream_is_finished_by_the_next_start(self):
        data_dir = self.riffled.data_dir
        kept = self.create_stream()
        acked = self.kinesis.put_record(StreamName=kept, PartitionKey="k", Data=b"kept")
        baseline = du_bytes(data_dir)
        big = self.create_stream(shards=2)
        self.fill(big, 48)
        self.kinesis.delete_stream(StreamName=big)
        self.riffled.kill9()  # the drop may not have begun
        self.riffled.start()
        names = self.kinesis.list_streams()["StreamNames"]
        self.assertNotIn(big, names)
        wait_for(lambda: du_bytes(data_dir) < baseline + 16 * MIB, 60, interval=0.5,
                 what=f"du of {data_dir} to fall after the restart (baseline {baseline})")
        self.assertEqual([r["SequenceNumber"] for r in read_all_records(
            self.kinesis, kept, acked["ShardId"])], [acked["SequenceNumber"]])


if __name__ == "__main__":
    unittest.main()
