// A simulated replica's state machine, in both simulator modes: the replica server's own
// (kvs/machine/state_machine.h) on the memory store, with the server's ownership rule
// (kvs/machine/ownership.h) as its apply hooks and for reads, and FetchRange answered as
// the server answers it. So the simulator checks the code that serves users: at-most-once,
// CPUT/CDELETE, session expiry, maps and every migration step. Commands are serialized
// pb::Command, as in the server's log.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvs/machine/memory_store.h"
#include "kvs/machine/ownership.h"
#include "kvs/machine/state_machine.h"
#include "kvs/shard/cluster_map.h"
#include "proto/kvs.pb.h"

namespace penncloud::paxos::sim {

// Every cluster map of a run, by its serialized bytes (what OP_SET_MAP and the config
// group's map cell carry), parsed once.
using MapsByBytes =
    std::map<std::string, std::shared_ptr<const kvs::shard::ClusterMap>, std::less<>>;

// Test-only breakage of the multi-group mode, to prove that its checks catch it.
enum class Bug {
  kNone,
  kSourceServesAfterSwitch,  // the source ignores RELEASE and the switched map
  kCopyBeforeFreeze,         // the rebalancer copies the range before freezing the source
  kUnnumberedChunks,         // install chunks without attempt numbers (the store before
                             // 7e1e0c4): a late reset chunk restarts an installed range
  kActivateBeforeInstall,    // the rebalancer does not wait for the install to be chosen, and
                             // the destination activates a range it never installed
};

class SimMachine {
 public:
  // Group 0 serves every row: the single-group mode and the config group.
  explicit SimMachine(uint64_t group = 0, const MapsByBytes* maps = nullptr, Bug bug = Bug::kNone);

  // Applies one command (a command that does not parse does nothing, as in the server).
  kvs::machine::ApplyOutcome Apply(const std::string& command);
  kvs::machine::ApplyOutcome Apply(const kvs::pb::Command& command);

  std::optional<std::string> Get(const std::string& row, const std::string& column) const;
  // How this replica answers a request for `row` in its current state.
  kvs::machine::Verdict Judge(const std::string& row, bool write) const;
  // Whether it serves `row` at all (reads included): the exclusivity check.
  bool Serves(const std::string& row) const {
    return Judge(row, /*write=*/false) == kvs::machine::Verdict::kServe;
  }
  // FetchRange: the range's cells and the session records that go with it, once the
  // migration is frozen (or released) here; nullopt before.
  std::optional<kvs::pb::RangeChunk> Dump(const kvs::pb::MigrationEntry& migration) const;

  const std::string& map_bytes() const { return machine_.ShardMap(); }
  uint64_t map_version() const { return machine_.MapVersion(); }
  // The at-most-once table's clock (the leader's expiry sweeps start from it).
  const kvs::pb::SessionClock& clock() const { return machine_.SessionClockNow(); }
  uint64_t session_records() const { return machine_.SessionRecords(); }
  // A fingerprint of the whole state (cells, at-most-once table, meta).
  uint64_t Digest() const;

 private:
  const kvs::shard::ClusterMap* Map() const;
  const kvs::pb::MigrationEntry* Entry(uint64_t migration) const;

  uint64_t group_;
  const MapsByBytes* maps_;
  Bug bug_;
  kvs::machine::MemoryStore store_;
  kvs::machine::StateMachine machine_;
};

// Cuts a FetchRange answer into `chunks` pieces for INSTALL_CHUNKs (some may be empty):
// its cells, then its sessions, spread evenly in order.
std::vector<kvs::pb::RangeChunk> SplitDump(const kvs::pb::RangeChunk& dump, size_t chunks);

}  // namespace penncloud::paxos::sim
