#include "kvs/storage/cell_key.h"

#include <cstdint>

namespace penncloud::kvs::storage {
namespace {

void AppendLength(std::string* key, uint32_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) key->push_back(static_cast<char>(n >> shift));
}

std::optional<ParsedCellKey> ParseFrom(std::string_view key, size_t at) {
  if (key.size() < at + 4) return std::nullopt;
  uint32_t n = 0;
  for (size_t i = at; i < at + 4; ++i) n = (n << 8) | static_cast<uint8_t>(key[i]);
  if (key.size() - at - 4 < n) return std::nullopt;
  return ParsedCellKey{key.substr(at + 4, n), at + 4 + n};
}

}  // namespace

std::string RowPrefix(uint64_t position, std::string_view row) {
  std::string key = SlotKey(position);
  key.reserve(12 + row.size());
  AppendLength(&key, static_cast<uint32_t>(row.size()));
  key.append(row);
  return key;
}

std::string CellKey(uint64_t position, std::string_view row, std::string_view column) {
  std::string key = RowPrefix(position, row);
  key.append(column);
  return key;
}

std::optional<ParsedCellKey> ParseCellKey(std::string_view key) { return ParseFrom(key, 8); }

std::optional<ParsedCellKey> ParseFormat1CellKey(std::string_view key) { return ParseFrom(key, 0); }

std::string SlotKey(uint64_t slot) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(slot >> (56 - 8 * i));
  return key;
}

uint64_t DecodeSlotKey(std::string_view key) {
  uint64_t slot = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) {
    slot = (slot << 8) | static_cast<uint8_t>(key[i]);
  }
  return slot;
}

}  // namespace penncloud::kvs::storage
