// The state machine of one simulated replica group in the multi-group mode: rows, the
// at-most-once table, the applied cluster map and the group's migration table, with the
// ownership verdict of docs/sharding.md section 5 (the same rules as the replica server's
// Judge in kvs/server/replica.cc, which cannot run here: it lives on RocksDB and gRPC).
//
// Every change is a command decided in the group's log: client writes, OP_SET_MAP ('M'),
// and the migration steps of section 6 ('F' freeze, 'I' install, 'R' release,
// 'A' activate, 'X' drop). The config group runs the same machine with group id 0 (it
// serves every row) and holds the stored map, changed by 'S' (compare-and-set, like the
// ConfigStore's CPut on the map cell).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvs/shard/cluster_map.h"

namespace penncloud::paxos::sim {

// Every map ever proposed, by a registration number: commands name maps by that number,
// standing for the serialized map the real commands carry.
using MapRegistry = std::map<uint64_t, std::shared_ptr<const kvs::shard::ClusterMap>>;

struct ShardCommand {
  char op = 'P';        // 'P' put, 'C' cput, 'D' delete, or a control op (see above)
  uint64_t client = 0;  // 0 for control commands: no session, `seq` is a reply nonce
  uint64_t seq = 0;
  std::string key;
  std::string value;
  std::optional<std::string> expected;  // CPUT: nullopt = the key must be absent
  // Control commands.
  uint64_t map = 0;           // 'M', 'S': the map (registration number)
  uint64_t expected_map = 0;  // 'S': the map that must be stored for the change to apply
  uint64_t migration = 0;     // 'F' 'I' 'R' 'A' 'X'
  uint64_t start = 0, end = 0, from = 0, to = 0;
  std::string payload;   // 'I': a piece of the range's cells and the source's session table
  bool reset = true;     // 'I': the first chunk: delete what the destination has of the range
  bool last = true;      // 'I': the last chunk: the range is installed
  uint64_t attempt = 0;  // 'I': which copy (newer = higher); 0 = unnumbered
  uint64_t chunk = 0;    // 'I': the chunk's index within its attempt
};

std::string EncodeCommand(const ShardCommand& c);
// Cuts a FetchRange dump into `chunks` INSTALL_CHUNK payloads (some may be empty).
std::vector<std::string> SplitDump(const std::string& dump, size_t chunks);
ShardCommand DecodeCommand(const std::string& s);

// A group's local step of one migration (pb::MigrationStep in the server).
enum class Step { kFrozen, kReleased, kDropped, kInstalling, kInstalled, kActive };

enum class Verdict { kServe, kWrongGroup, kUnavailable };

struct ApplyOutcome {
  Verdict verdict = Verdict::kServe;  // for client writes
  bool cput_ok = false;
};

// Test-only breakage, to prove that the simulator's checks catch it.
enum class Bug {
  kNone,
  kSourceServesAfterSwitch,  // the source ignores RELEASE and the switched map
  kCopyBeforeFreeze,         // the rebalancer copies the range before freezing the source
  kUnnumberedChunks,         // install chunks without attempt numbers (the store before
                             // 7e1e0c4): a late reset chunk restarts an installed range
  kActivateBeforeInstall,    // the rebalancer does not wait for the install to be chosen, and
                             // the destination activates a range it never installed
};

class ShardMachine {
 public:
  ShardMachine() = default;
  ShardMachine(uint64_t group, const MapRegistry* maps, Bug bug)
      : group_(group), maps_(maps), bug_(bug) {}

  // CPUT result; for 'S', whether the store now holds `map`.
  ApplyOutcome Apply(const ShardCommand& c);
  std::optional<std::string> Get(const std::string& key) const;
  // How this group answers a request for `row` in its current state.
  Verdict Judge(const std::string& row, bool write) const;
  // FetchRange: the cells of `range` and the whole session table, once this replica has
  // applied FREEZE of `migration`; nullopt before (or after the range was released).
  std::optional<std::string> Dump(uint64_t migration, kvs::shard::RingRange range) const;
  // Whether this group serves `row` at all (reads included): the exclusivity check.
  bool Serves(const std::string& row) const { return Judge(row, false) == Verdict::kServe; }
  uint64_t map_version() const { return map_ ? map_->version() : 0; }
  uint64_t map_id() const { return map_id_; }
  // A fingerprint of the whole state.
  uint64_t Digest() const;

 private:
  struct Session {
    uint64_t seq = 0;
    bool wrong_group = false;
    bool cput_ok = false;
  };
  struct Entry {
    uint64_t start = 0, end = 0, from = 0, to = 0;
    Step step = Step::kFrozen;
    uint64_t attempt = 0, next_chunk = 0;  // destination: the install being applied
  };
  ApplyOutcome ApplyWrite(const ShardCommand& c);
  void ApplyControl(const ShardCommand& c, ApplyOutcome* out);
  void EraseRange(uint64_t start, uint64_t end);

  uint64_t group_ = 0;
  const MapRegistry* maps_ = nullptr;
  Bug bug_ = Bug::kNone;
  std::map<std::string, std::string> data_;
  std::map<uint64_t, Session> sessions_;
  uint64_t map_id_ = 0;
  std::shared_ptr<const kvs::shard::ClusterMap> map_;
  std::map<uint64_t, Entry> table_;  // migration id -> local step
};

}  // namespace penncloud::paxos::sim
