#include "kvs/storage/cell_key.h"

#include <cstdint>

namespace penncloud::kvs::storage {

std::string RowPrefix(std::string_view row) {
  std::string key;
  key.reserve(4 + row.size());
  const uint32_t n = static_cast<uint32_t>(row.size());
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>(n >> shift));
  key.append(row);
  return key;
}

std::string CellKey(std::string_view row, std::string_view column) {
  std::string key = RowPrefix(row);
  key.append(column);
  return key;
}

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
