// Store format 2 (position-prefixed cell keys): old directories are upgraded, unknown
// formats refused, and ring ranges at the edges of the position space read and delete
// exactly their cells.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/replica_store.h"
#include "rocksdb/db.h"
#include "tests/support/process.h"

namespace penncloud::kvs::storage {
namespace {

// Rows named for where they sit: "lo" at 0, "mid" at 2^63, "hi" at 2^64-1, others at 7.
uint64_t EdgePosition(std::string_view row) {
  if (row.starts_with("lo")) return 0;
  if (row.starts_with("mid")) return uint64_t{1} << 63;
  if (row.starts_with("hi")) return UINT64_MAX;
  return 7;
}

pb::Command Put(uint64_t session, uint64_t seq, std::string row, std::string value) {
  pb::Command c;
  c.set_op(pb::OP_PUT);
  c.set_session(session);
  c.set_seq(seq);
  c.set_row(std::move(row));
  c.set_column("c");
  c.set_value(std::move(value));
  return c;
}

pb::MigrationEntry Range(uint64_t id, uint64_t start, uint64_t end) {
  pb::MigrationEntry m;
  m.set_id(id);
  m.set_start(start);
  m.set_end(end);
  m.set_from_group(1);
  m.set_to_group(2);
  return m;
}

class StoreFormatTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = penncloud::testing::TempDir("store-format"); }
  void TearDown() override { penncloud::testing::RemoveTree(dir_); }

  // A database with the store's column families, written directly (as an older build
  // would have left it).
  void WriteRaw(const std::vector<std::pair<std::string, std::string>>& cells,
                const std::string& format) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "meta", "log", "data", "sessions"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_ + "/db", families, &handles, &db).ok());
    for (const auto& [key, value] : cells) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[3], key, value).ok());
    }
    if (!format.empty()) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], "format", format).ok());
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }

  std::vector<std::string> Rows(ReplicaStore& store, const pb::MigrationEntry& m) {
    std::vector<std::string> rows;
    EXPECT_TRUE(store
                    .DumpRange(m, 1 << 20,
                               [&](const pb::RangeChunk& chunk) {
                                 for (const auto& cell : chunk.cells()) rows.push_back(cell.row());
                                 return true;
                               })
                    .ok());
    return rows;
  }

  std::string dir_;
};

// The format-1 key: 4-byte length, row, column.
std::string Format1Key(const std::string& row, const std::string& column) {
  std::string key(4, '\0');
  key[3] = static_cast<char>(row.size());
  return key + row + column;
}

TEST_F(StoreFormatTest, Format1DirectoryIsUpgradedInPlace) {
  WriteRaw({{Format1Key("mid1", "a"), "v1"},
            {Format1Key("mid1", "b"), "v2"},
            {Format1Key("lo1", "a"), "v3"}},
           "");
  for (int open = 0; open < 2; ++open) {  // the second open finds format 2 and keeps it
    auto store = ReplicaStore::Open(dir_ + "/db", EdgePosition);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(*(*store)->Get("mid1", "a").value(), "v1");
    EXPECT_EQ(*(*store)->Get("lo1", "a").value(), "v3");
    std::vector<ListedCell> cells;
    bool more = true;
    ASSERT_TRUE((*store)->List("mid1", "", 10, true, &cells, &more).ok());
    ASSERT_EQ(cells.size(), 2u);
    EXPECT_EQ(cells[1].column, "b");
    EXPECT_EQ(cells[1].value, "v2");
    EXPECT_FALSE(more);
    EXPECT_EQ(Rows(**store, Range(1, 5, 7)), std::vector<std::string>{});
    EXPECT_EQ(Rows(**store, Range(1, UINT64_MAX, 0)), std::vector<std::string>{"lo1"});
  }
}

TEST_F(StoreFormatTest, UnknownFormatIsRefusedWithTheFix) {
  WriteRaw({{CellKey(7, "x", "c"), "v"}}, "9");
  auto store = ReplicaStore::Open(dir_ + "/db", EdgePosition);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("store format 9"), std::string::npos);
  EXPECT_NE(store.status().message().find("catch up from its group"), std::string::npos);
}

TEST_F(StoreFormatTest, UnreadableUnmarkedKeysAreRefusedNotMisread) {
  WriteRaw({{std::string("\x00\x00\x00\x40short", 9), "v"}}, "");
  auto store = ReplicaStore::Open(dir_ + "/db", EdgePosition);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(StoreFormatTest, RangesAtTheEdgesOfTheRingHoldExactlyTheirRows) {
  auto opened = ReplicaStore::Open(dir_ + "/db", EdgePosition);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ReplicaStore& store = **opened;
  uint64_t slot = 0;
  for (std::string row : {"lo1", "lo2", "x1", "mid1", "hi1"}) {
    ++slot;  // each row its own session, numbered like its slot
    ASSERT_TRUE(store.Apply(slot, Put(slot, 1, row, row)).ok());
  }
  using Rs = std::vector<std::string>;
  EXPECT_EQ(Rows(store, Range(1, 0, UINT64_MAX)), (Rs{"x1", "mid1", "hi1"}));
  EXPECT_EQ(Rows(store, Range(1, UINT64_MAX, 7)), (Rs{"lo1", "lo2", "x1"}));
  EXPECT_EQ(Rows(store, Range(1, uint64_t{1} << 63, 0)), (Rs{"hi1", "lo1", "lo2"}));
  EXPECT_EQ(Rows(store, Range(1, 7, 7)).size(), 5u);  // start == end: the whole ring
  EXPECT_EQ(Rows(store, Range(1, 8, (uint64_t{1} << 63) - 1)), (Rs{}));

  // Sessions go with the range of the row they last wrote.
  std::vector<uint64_t> sessions;
  ASSERT_TRUE(store
                  .DumpRange(Range(1, 6, 7), 1 << 20,
                             [&](const pb::RangeChunk& chunk) {
                               for (const auto& s : chunk.sessions()) {
                                 sessions.push_back(s.session());
                               }
                               return true;
                             })
                  .ok());
  EXPECT_EQ(sessions, std::vector<uint64_t>{3});  // x1 was written by session 3

  // DROP of a wrapping range deletes exactly it.
  pb::Command drop;
  drop.set_op(pb::OP_MIGRATE);
  drop.set_seq(99);
  drop.mutable_migrate()->set_kind(pb::MIGRATE_DROP);
  *drop.mutable_migrate()->mutable_migration() = Range(4, uint64_t{1} << 63, 0);
  ASSERT_TRUE(store.Apply(++slot, drop).ok());
  EXPECT_FALSE(store.Get("hi1", "c").value().has_value());
  EXPECT_FALSE(store.Get("lo2", "c").value().has_value());
  EXPECT_EQ(*store.Get("mid1", "c").value(), "mid1");
  EXPECT_EQ(*store.Get("x1", "c").value(), "x1");
}

}  // namespace
}  // namespace penncloud::kvs::storage
