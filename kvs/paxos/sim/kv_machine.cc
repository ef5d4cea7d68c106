#include "kvs/paxos/sim/kv_machine.h"

#include <string_view>

#include "kvs/shard/hash_ring.h"

namespace penncloud::paxos::sim {
namespace {

uint64_t Mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;
}

}  // namespace

KvMachine::KvMachine() : store_(kvs::shard::RingPosition), machine_(kvs::shard::RingPosition) {}

kvs::machine::ApplyOutcome KvMachine::Apply(const std::string& command) {
  kvs::pb::Command c;
  c.ParseFromString(command);  // unparsable: OP_UNSPECIFIED, which does nothing
  bool migrated = false;
  auto out = machine_.ApplySlot({c}, store_, nullptr, &migrated);
  // The memory store cannot fail; the state machine's errors come only from a store.
  return out.ok() ? (*out)[0] : kvs::machine::ApplyOutcome();
}

std::optional<std::string> KvMachine::Get(const std::string& row, const std::string& column) const {
  auto it = store_.cells().find({row, column});
  if (it == store_.cells().end()) return std::nullopt;
  return it->second;
}

uint64_t KvMachine::Digest() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [cell, value] : store_.cells()) {
    h = Mix(Mix(Mix(h, cell.first), cell.second), value);
  }
  for (const auto& [session, record] : store_.sessions()) {
    h = Mix(Mix(h, std::to_string(session)), record.SerializeAsString());
  }
  for (const auto& [key, value] : store_.meta()) h = Mix(Mix(h, key), value);
  return h;
}

}  // namespace penncloud::paxos::sim
