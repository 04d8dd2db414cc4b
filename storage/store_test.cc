#include "storage/store.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "storage/format.h"
#include "storage/records_column_family.h"

namespace riffle::storage {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    StoreOptions options;
    options.data_dir = dir_;
    options.fsync = FsyncMode::kNever;
    options.check_tables_at_start = false;
    StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  std::shared_ptr<ShardLog> Shard(uint64_t stream_id, uint32_t ordinal) {
    StatusOr<std::shared_ptr<ShardLog>> log = store_->OpenShard(stream_id, ordinal);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : nullptr;
  }
  void Append(uint64_t stream_id, uint32_t ordinal, const std::vector<std::string>& data) {
    ShardAppend append{Shard(stream_id, ordinal), {}};
    for (const std::string& d : data) {
      append.values.push_back(EncodeRecord(0, "pk", d));
    }
    std::promise<Status> done;
    std::vector<ShardAppend> appends;
    appends.push_back(std::move(append));
    store_->pipeline().Submit(
        std::move(appends), 1000,
        [&](const Status& s, const std::vector<Reservation>&) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }
  std::vector<std::string> ReadAll(uint64_t stream_id, uint32_t ordinal) {
    std::vector<std::string> out;
    StatusOr<ReadResult> read = Shard(stream_id, ordinal)->Read(0, 1000, 1 << 20);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    for (const ReadRecord& r : read->records) {
      out.push_back(r.record.data);
    }
    return out;
  }
  std::vector<std::string> ColumnFamilies() const {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.string(), &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  }
  // A data directory of the layout with a column family per shard, as riffled wrote it before
  // the `records` column family: offsets 2..4 of shard 0 (0 and 1 trimmed) and 0 of shard 3
  // of stream 5. With `records_too`, an upgrade that was cut short had copied shard 0 already.
  void WriteLegacyDirectory(bool records_too) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {"catalog", {}},
        {"shard-5-0", {}},
        {"shard-5-3", {}}};
    if (records_too) {
      rocksdb::ColumnFamilyOptions records;
      records.comparator = RecordsComparator();
      families.emplace_back(kRecordsColumnFamily, records);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.string(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (uint64_t offset = 2; offset <= 4; ++offset) {
      ASSERT_TRUE(db->Put({}, handles[2], EncodeOffsetKeyForTest(offset),
                          EncodeRecord(int64_t(offset), "pk", Labelled('a', offset)))
                      .ok());
    }
    ASSERT_TRUE(
        db->Put({}, handles[3], EncodeOffsetKeyForTest(0), EncodeRecord(7, "pk", "b0")).ok());
    ASSERT_TRUE(db->Flush({}, handles[2]).ok());  // one in a table file, one in the log only
    if (records_too) {                            // shard 0's copies, written before the cut
      for (uint64_t offset = 2; offset <= 4; ++offset) {
        ASSERT_TRUE(db->Put({}, handles[4], EncodeRecordKey(5, 0, offset),
                            EncodeRecord(int64_t(offset), "pk", Labelled('a', offset)))
                        .ok());
      }
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    ASSERT_TRUE(db->Close().ok());
  }
  // Writes a key no riffled writes into the column family `name`: an upgrade's copy stops on it.
  void PutKeyNoRiffleWrites(const std::string& name) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& family : ColumnFamilies()) {
      rocksdb::ColumnFamilyOptions options;
      if (family == kRecordsColumnFamily) {
        options.comparator = RecordsComparator();
      }
      families.emplace_back(family, options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), dir_.string(), families, &handles, &raw).ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      if (handle->GetName() == name) {
        ASSERT_TRUE(raw->Put({}, handle, "not an offset", "x").ok());
      }
      ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
    }
    delete raw;
  }
  Status OpenStatus() const {
    StoreOptions options;
    options.data_dir = dir_;
    return Store::Open(options).status();
  }
  static std::string Labelled(char label, uint64_t offset) {
    std::string out(1, label);
    out += std::to_string(offset);
    return out;
  }
  static std::string EncodeOffsetKeyForTest(uint64_t offset) {
    std::string key = EncodeRecordKey(0, 0, offset);
    return key.substr(kShardKeyPrefixSize);  // the offset alone, 8 bytes big-endian
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, ShardsKeepTheirRecordsApartAndAcrossReopen) {
  Open();
  Append(1, 0, {"a", "b"});
  Append(1, 1, {"c"});
  Append(2, 0, {"d"});
  Open();
  EXPECT_EQ(ReadAll(1, 0), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReadAll(1, 1), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ReadAll(2, 0), (std::vector<std::string>{"d"}));
  EXPECT_EQ(Shard(1, 0)->committed_end(), 2u);
  EXPECT_EQ(Shard(1, 2)->committed_end(), 0u);
}

TEST_F(StoreTest, ALegacyDirectoryIsUpgradedOnOpen) {
  WriteLegacyDirectory(/*records_too=*/false);
  Open();
  EXPECT_EQ(ReadAll(5, 0), (std::vector<std::string>{"a2", "a3", "a4"}));
  EXPECT_EQ(Shard(5, 0)->trim_offset(), 2u);
  EXPECT_EQ(Shard(5, 0)->committed_end(), 5u);
  EXPECT_EQ(Shard(5, 0)->last_arrival_ms(), 4);
  EXPECT_EQ(ReadAll(5, 3), (std::vector<std::string>{"b0"}));
  EXPECT_EQ(ColumnFamilies(), (std::vector<std::string>{"catalog", "default", "records"}));
  Append(5, 3, {"b1"});  // appends go on after the copied records
  Open();
  EXPECT_EQ(ReadAll(5, 3), (std::vector<std::string>{"b0", "b1"}));
}

TEST_F(StoreTest, AnUpgradeCutShortIsFinishedByTheNextOpen) {
  WriteLegacyDirectory(/*records_too=*/true);
  ASSERT_EQ(ColumnFamilies(),
            (std::vector<std::string>{"catalog", "default", "records", "shard-5-0", "shard-5-3"}));
  Open();
  EXPECT_EQ(ReadAll(5, 0), (std::vector<std::string>{"a2", "a3", "a4"}));
  EXPECT_EQ(ReadAll(5, 3), (std::vector<std::string>{"b0"}));
  EXPECT_EQ(ColumnFamilies(), (std::vector<std::string>{"catalog", "default", "records"}));
}

TEST_F(StoreTest, AFailedUpgradeLeavesTheOldLayoutAsItWas) {
  WriteLegacyDirectory(/*records_too=*/false);
  PutKeyNoRiffleWrites("shard-5-3");
  const Status opened = OpenStatus();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("shard-5-3"), std::string::npos) << opened.message();
  EXPECT_NE(opened.message().find("left as it was"), std::string::npos) << opened.message();
  // No `records`, so the riffled of the old layout (default key order everywhere) opens it.
  EXPECT_EQ(ColumnFamilies(),
            (std::vector<std::string>{"catalog", "default", "shard-5-0", "shard-5-3"}));
}

TEST_F(StoreTest, AFailedUpgradeKeepsTheCopiesOfAnUpgradeCutShort) {
  // `records` found at open may hold the only copy of old column families already dropped.
  WriteLegacyDirectory(/*records_too=*/true);
  PutKeyNoRiffleWrites("shard-5-3");
  const Status opened = OpenStatus();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("are kept"), std::string::npos) << opened.message();
  EXPECT_EQ(ColumnFamilies(),
            (std::vector<std::string>{"catalog", "default", "records", "shard-5-0", "shard-5-3"}));
}

TEST_F(StoreTest, ADirectoryInThisLayoutDoesNotOpenWithTheDefaultKeyOrder) {
  // What a riffled from before the layout does at start: open every column family with
  // RocksDB's default comparator. It must fail rather than take `records` for a stray shard.
  Open();
  Append(1, 0, {"a"});
  store_.reset();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : ColumnFamilies()) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::Open(rocksdb::DBOptions(), dir_.string(), families, &handles, &raw);
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.ToString().find("omparator"), std::string::npos) << opened.ToString();
  if (opened.ok()) {
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      raw->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    delete raw;
  }
}

TEST_F(StoreTest, ShardsNoStreamNamesAreDroppedAtStart) {
  Open();
  Append(1, 0, {"a"});
  Append(1, 1, {"b"});
  Append(2, 4, {"c"});
  Open();
  ASSERT_TRUE(store_->DropShardsExcept({{1, 1}}).ok());
  Open();
  EXPECT_TRUE(ReadAll(1, 0).empty());
  EXPECT_EQ(ReadAll(1, 1), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(ReadAll(2, 4).empty());
  EXPECT_EQ(Shard(2, 4)->committed_end(), 0u);
}

TEST_F(StoreTest, ABackgroundDropDeletesTheRecordsAndGivesTheCountBack) {
  Open();
  Append(3, 0, {"a"});
  Append(3, 1, {"b"});
  Append(4, 0, {"c"});
  store_->DropShardsInBackground(3, {0, 1});
  for (int i = 0; i < 500 && store_->stats().shards_to_drop != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store_->stats().shards_to_drop, 0u);
  EXPECT_TRUE(ReadAll(3, 0).empty());
  EXPECT_TRUE(ReadAll(3, 1).empty());
  EXPECT_EQ(ReadAll(4, 0), (std::vector<std::string>{"c"}));
}

}  // namespace
}  // namespace riffle::storage
