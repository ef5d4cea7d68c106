// How a cell (row, column) is laid out as one RocksDB key (store format 2):
//
//   8-byte big-endian ring position of the row ‖ 4-byte big-endian row length ‖ row ‖ column
//
// The position comes first so that a ring range (start, end] is at most two contiguous key
// ranges: moving or dropping a range reads or deletes only that range
// (docs/sharding.md section 5). A row's columns stay adjacent and in byte order of column
// because the position is a function of the row; the length prefix keeps row "a" + column
// "bc" apart from row "ab" + column "c".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace penncloud::kvs::storage {

// Where a row sits on the hash ring. The store does not define placement: the server
// passes shard::RingPosition, tests pass something readable.
using RowPosition = uint64_t (*)(std::string_view row);

std::string CellKey(uint64_t position, std::string_view row, std::string_view column);

// The common prefix of every cell key of `row` (at `position`).
std::string RowPrefix(uint64_t position, std::string_view row);

// The row of a format-2 cell key, and the byte offset of its column; nullopt if malformed.
struct ParsedCellKey {
  std::string_view row;
  size_t column_offset = 0;
};
std::optional<ParsedCellKey> ParseCellKey(std::string_view key);

// The row of a format-1 key (no position: length ‖ row ‖ column), for migrating old stores.
std::optional<ParsedCellKey> ParseFormat1CellKey(std::string_view key);

// Big-endian 8-byte slot keys, so that RocksDB's byte order is slot order. Also the ring
// position prefix of cell keys and the key of a session record.
std::string SlotKey(uint64_t slot);
uint64_t DecodeSlotKey(std::string_view key);

}  // namespace penncloud::kvs::storage
