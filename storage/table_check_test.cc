#include "storage/table_check.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

namespace riffle::storage {
namespace {

// A database whose "shard" column family holds one table file of several blocks.
class TableCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-table-check-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.compression = rocksdb::kNoCompression;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.string(), &db).ok());
    db_.reset(db);
    std::mt19937 random(7);
    for (int i = 0; i < 100; ++i) {
      std::string value(1000, '\0');
      for (char& c : value) {
        c = static_cast<char>(random());
      }
      char key[16];
      std::snprintf(key, sizeof(key), "%08d", i);
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
    }
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path Table() const {
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().extension() == ".sst") {
        return entry.path();
      }
    }
    ADD_FAILURE() << "no table file in " << dir_;
    return {};
  }
  static void FlipByte(const std::filesystem::path& path, std::streamoff offset) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(offset);
    const char byte = static_cast<char>(file.get());
    file.seekp(offset);
    file.put(static_cast<char>(~byte));
  }

  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST_F(TableCheckTest, IntactTablesAreCountedAndNotReported) {
  std::atomic<bool> stop{false};
  const TableCheckResult result = CheckTables(*db_, stop, [](const DamagedTable&) {});
  EXPECT_EQ(result.files_checked, 1u);
  EXPECT_GT(result.bytes_checked, 100u * 1000);
  EXPECT_TRUE(result.damaged.empty());
  EXPECT_FALSE(result.stopped);
}

TEST_F(TableCheckTest, DamageInAMiddleBlockNamesTheFile) {
  const std::filesystem::path table = Table();
  FlipByte(table, 50 * 1000);  // well inside the data blocks, far from the first and last key
  std::atomic<bool> stop{false};
  std::vector<std::string> reported;
  const TableCheckResult result =
      CheckTables(*db_, stop, [&](const DamagedTable& table) { reported.push_back(table.file); });
  ASSERT_EQ(result.damaged.size(), 1u);
  EXPECT_EQ(reported, std::vector<std::string>{result.damaged[0].file});
  EXPECT_EQ(std::filesystem::path(result.damaged[0].file).filename(), table.filename());
  EXPECT_EQ(result.damaged[0].column_family, rocksdb::kDefaultColumnFamilyName);
  EXPECT_NE(result.damaged[0].message.find("Corruption"), std::string::npos)
      << result.damaged[0].message;
  EXPECT_EQ(result.files_checked, 0u);
}

TEST_F(TableCheckTest, StopsBeforeTheNextFile) {
  std::atomic<bool> stop{true};
  const TableCheckResult result = CheckTables(*db_, stop, [](const DamagedTable&) {});
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.files_checked, 0u);
}

}  // namespace
}  // namespace riffle::storage
