#include "kvs/paxos/sim/sim_machine.h"

#include <string_view>

#include "kvs/shard/hash_ring.h"

namespace penncloud::paxos::sim {
namespace {

namespace machine = kvs::machine;
namespace pb = kvs::pb;

uint64_t Mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;
}

}  // namespace

SimMachine::SimMachine(uint64_t group, const MapsByBytes* maps, Bug bug)
    : group_(group),
      maps_(maps),
      bug_(bug),
      store_(kvs::shard::RingPosition),
      machine_(kvs::shard::RingPosition) {}

machine::ApplyOutcome SimMachine::Apply(const std::string& command) {
  pb::Command c;
  c.ParseFromString(command);  // unparsable: OP_UNSPECIFIED, which does nothing
  return Apply(c);
}

machine::ApplyOutcome SimMachine::Apply(const pb::Command& command) {
  if (bug_ == Bug::kActivateBeforeInstall && command.op() == pb::OP_MIGRATE &&
      command.migrate().kind() == pb::MIGRATE_ACTIVATE &&
      Entry(command.migrate().migration().id()) == nullptr) {
    // The broken destination takes an ACTIVATE of a migration it never heard of as an
    // empty install followed by the activation.
    pb::Command install = command;
    pb::MigrateStep* step = install.mutable_migrate();
    step->set_kind(pb::MIGRATE_INSTALL_CHUNK);
    step->set_last(true);
    Apply(install);
  }
  // The server's hooks (kvs/server): the ownership verdict of this replica's state.
  machine::ApplyHooks hooks;
  hooks.wrong_group = [this](const pb::Command& c) {
    return Judge(c.row(), /*write=*/true) == machine::Verdict::kWrongGroup;
  };
  hooks.unavailable = [this](const pb::Command& c) {
    return Judge(c.row(), /*write=*/true) == machine::Verdict::kUnavailable
               ? std::string("frozen or arriving")
               : std::string();
  };
  bool migrated = false;
  auto out = machine_.ApplySlot({command}, store_, group_ == 0 ? nullptr : &hooks, &migrated);
  // The memory store cannot fail; the state machine's errors come only from a store.
  return out.ok() ? (*out)[0] : machine::ApplyOutcome();
}

std::optional<std::string> SimMachine::Get(const std::string& row,
                                           const std::string& column) const {
  auto it = store_.cells().find({row, column});
  if (it == store_.cells().end()) return std::nullopt;
  return it->second;
}

const kvs::shard::ClusterMap* SimMachine::Map() const {
  if (maps_ == nullptr) return nullptr;
  auto it = maps_->find(machine_.ShardMap());
  return it == maps_->end() ? nullptr : it->second.get();
}

const pb::MigrationEntry* SimMachine::Entry(uint64_t migration) const {
  for (const pb::MigrationEntry& e : machine_.Migrations().entries()) {
    if (e.id() == migration) return &e;
  }
  return nullptr;
}

machine::Verdict SimMachine::Judge(const std::string& row, bool write) const {
  const uint64_t position = kvs::shard::RingPosition(row);
  if (bug_ == Bug::kSourceServesAfterSwitch && group_ != 0) {
    // The broken source judges a range it is giving away by its freeze alone.
    const pb::MigrationEntry* latest = nullptr;
    for (const pb::MigrationEntry& e : machine_.Migrations().entries()) {
      if (machine::InRange(e, position) && (latest == nullptr || e.id() > latest->id())) {
        latest = &e;
      }
    }
    if (latest != nullptr && latest->from_group() == group_) {
      return write && latest->step() == pb::STEP_FROZEN ? machine::Verdict::kUnavailable
                                                        : machine::Verdict::kServe;
    }
  }
  std::string why;
  return machine::Judge(group_, Map(), machine_.Migrations(), position, write, &why);
}

std::optional<pb::RangeChunk> SimMachine::Dump(const pb::MigrationEntry& migration) const {
  const pb::MigrationEntry* entry = Entry(migration.id());
  const bool frozen =
      entry != nullptr && (entry->step() == pb::STEP_FROZEN || entry->step() == pb::STEP_RELEASED);
  // The broken variant copies before the freeze, from whatever state the replica has.
  const bool early = bug_ == Bug::kCopyBeforeFreeze && entry == nullptr;
  if (!frozen && !early) return std::nullopt;
  pb::RangeChunk dump;
  for (const auto& [cell, value] : store_.cells()) {
    if (!machine::InRange(migration, kvs::shard::RingPosition(cell.first))) continue;
    pb::RangeCell* c = dump.add_cells();
    c->set_row(cell.first);
    c->set_column(cell.second);
    c->set_value(value);
  }
  // As ReplicaStore::DumpRange: a record goes with the range of the row it last wrote.
  for (const auto& [session, record] : store_.sessions()) {
    if (record.has_position() && !machine::InRange(migration, record.position())) continue;
    pb::RangeSession* s = dump.add_sessions();
    s->set_session(session);
    *s->mutable_record() = record;
  }
  dump.set_last(true);
  return dump;
}

uint64_t SimMachine::Digest() const {
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

std::vector<pb::RangeChunk> SplitDump(const pb::RangeChunk& dump, size_t chunks) {
  std::vector<pb::RangeChunk> out(chunks);
  const size_t cells = size_t(dump.cells_size());
  const size_t total = cells + size_t(dump.sessions_size());
  for (size_t k = 0; k < chunks; ++k) {
    for (size_t i = k * total / chunks; i < (k + 1) * total / chunks; ++i) {
      if (i < cells) {
        *out[k].add_cells() = dump.cells(int(i));
      } else {
        *out[k].add_sessions() = dump.sessions(int(i - cells));
      }
    }
  }
  return out;
}

}  // namespace penncloud::paxos::sim
