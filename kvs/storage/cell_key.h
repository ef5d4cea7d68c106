// How a cell (row, column) is laid out as one RocksDB key so that a row's columns are
// adjacent and in byte order of column: a 4-byte big-endian row length, the row, then the
// column. The length prefix keeps row "a" + column "bc" apart from row "ab" + column "c".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace penncloud::kvs::storage {

std::string CellKey(std::string_view row, std::string_view column);

// The common prefix of every cell key of `row`.
std::string RowPrefix(std::string_view row);

// Big-endian 8-byte slot keys, so that RocksDB's byte order is slot order.
std::string SlotKey(uint64_t slot);
uint64_t DecodeSlotKey(std::string_view key);

}  // namespace penncloud::kvs::storage
