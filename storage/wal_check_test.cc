// The write-ahead log check on real logs that RocksDB wrote through the Store: intact logs and a
// torn last record open; a damaged byte with intact records after it does not, unless accepted.
#include "storage/wal_check.h"

#include <fstream>

#include <gtest/gtest.h>

#include "storage/format.h"
#include "storage/store.h"

namespace riffle::storage {
namespace {

namespace fs = std::filesystem;

TEST(Crc32cTest, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), 0xE3069283u);
}

class WalCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("riffle-wal-check-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  StatusOr<std::unique_ptr<Store>> Open(bool accept_damage = false) {
    StoreOptions options;
    options.data_dir = dir_;
    options.fsync = FsyncMode::kNever;
    options.min_free_disk_bytes = 0;
    options.accept_wal_damage = accept_damage;
    return Store::Open(options);
  }

  // Catalog entries, each a synced write of its own: one log record each.
  void WriteEntries(int count, int first = 0) {
    StatusOr<std::unique_ptr<Store>> store = Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = first; i < first + count; ++i) {
      Store::CatalogChange change;
      change.puts.emplace_back("test/" + std::to_string(i), std::string(300, 'v'));
      ASSERT_TRUE((*store)->WriteCatalog(change).ok());
    }
  }

  fs::path OnlyLog() {
    fs::path found;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".log" && fs::file_size(entry.path()) > 0) {
        found = entry.path();
      }
    }
    return found;
  }

  void FlipByte(const fs::path& file, uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0xFF);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  size_t Entries() {
    StatusOr<std::unique_ptr<Store>> store = Open(true);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? (*store)->ScanCatalog("test/")->size() : 0;
  }

  fs::path dir_;
};

TEST_F(WalCheckTest, IntactLogsHaveNoDamage) {
  WriteEntries(50);
  ASSERT_FALSE(OnlyLog().empty());
  StatusOr<WalScan> scan = ScanWal(dir_);
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->damage.has_value());
  EXPECT_EQ(Entries(), 50u);
}

TEST_F(WalCheckTest, ATornLastRecordIsNoDamage) {
  WriteEntries(50);
  const fs::path log = OnlyLog();
  fs::resize_file(log, fs::file_size(log) - 100);  // the last write, cut short by a crash
  StatusOr<WalScan> scan = ScanWal(dir_);
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->damage.has_value());
  EXPECT_TRUE(Open().ok());
  EXPECT_EQ(Entries(), 49u);
}

TEST_F(WalCheckTest, ATornLogIsRetiredAtOpenSoLaterRecordsDoNotFollowIt) {
  WriteEntries(50);
  const fs::path log = OnlyLog();
  fs::resize_file(log, fs::file_size(log) - 100);
  // Opened with the torn log, then written to: the new records go to a newer log.
  WriteEntries(10, /*first=*/1000);
  EXPECT_FALSE(fs::exists(log)) << "the torn log outlived the open that replayed it";
  StatusOr<WalScan> scan = ScanWal(dir_);
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->damage.has_value());
  EXPECT_TRUE(Open().ok());
  EXPECT_EQ(Entries(), 59u);
}

TEST_F(WalCheckTest, DamageBeforeIntactRecordsStopsTheStoreFromOpening) {
  WriteEntries(100);
  const fs::path log = OnlyLog();
  const uint64_t middle = fs::file_size(log) / 2;
  FlipByte(log, middle);
  StatusOr<WalScan> scan = ScanWal(dir_);
  ASSERT_TRUE(scan.ok());
  ASSERT_TRUE(scan->damage.has_value());
  EXPECT_EQ(scan->damage->file, log.filename().string());
  EXPECT_LE(scan->damage->offset, middle);
  EXPECT_GT(scan->damage->intact_after, 30u);  // the rest of its block and the next
  StatusOr<std::unique_ptr<Store>> refused = Open();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(log.filename().string()), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--accept-wal-damage"), std::string::npos);
  // Accepted, the store opens with what precedes the damage, as RocksDB replays it.
  const size_t kept = Entries();
  EXPECT_GT(kept, 30u);
  EXPECT_LT(kept, 70u);
}

}  // namespace
}  // namespace riffle::storage
