// apply_bench: the cost of one replica's disk-side work per command, without network or
// consensus: each "slot" persists one log entry of N commands (synced or not) and applies
// the commands to the state machine, the way a follower does. Prints microseconds of CPU
// and wall time per command, so a storage change can be judged on a quiet or busy machine.
//
//   apply_bench --dir=/tmp/apply-bench --slots=20000 --per_slot=20 --keys=2048
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "kvs/storage/replica_store.h"

ABSL_FLAG(std::string, dir, "/tmp/penncloud-apply-bench", "Store directory (wiped first).");
ABSL_FLAG(int, slots, 20000, "Slots to persist and apply.");
ABSL_FLAG(int, per_slot, 20, "Commands per slot.");
ABSL_FLAG(int, keys, 2048, "Distinct rows written (each command overwrites one at random).");
ABSL_FLAG(int, sessions, 64, "Client sessions the commands come from.");
ABSL_FLAG(int, value_size, 128, "Bytes per value.");
ABSL_FLAG(bool, sync, false, "fsync each slot's log write (as the replica does).");

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

uint64_t Position(std::string_view row) { return std::hash<std::string_view>()(row); }

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Measures a replica store's persist + apply cost per command.");
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_dir);
  std::filesystem::remove_all(dir);
  auto store = penncloud::kvs::storage::ReplicaStore::Open(dir, Position);
  if (!store.ok()) {
    std::cerr << "apply_bench: " << store.status() << "\n";
    return 1;
  }
  const int slots = absl::GetFlag(FLAGS_slots);
  const int per_slot = absl::GetFlag(FLAGS_per_slot);
  const int keys = absl::GetFlag(FLAGS_keys);
  const int sessions = absl::GetFlag(FLAGS_sessions);
  std::mt19937_64 rng(1);
  std::vector<uint64_t> seqs(sessions, 0);
  const std::string filler(absl::GetFlag(FLAGS_value_size), 'v');
  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  for (int slot = 1; slot <= slots; ++slot) {
    std::vector<penncloud::kvs::pb::Command> commands(per_slot);
    std::string entry;
    for (auto& c : commands) {
      const int s = static_cast<int>(rng() % sessions);
      c.set_op(penncloud::kvs::pb::OP_PUT);
      c.set_session(s + 1);
      c.set_seq(++seqs[s]);
      c.set_row("bench/" + std::to_string(rng() % keys));
      c.set_column("v");
      c.set_value(filler);
      entry += c.SerializeAsString();
    }
    penncloud::kvs::storage::LogWrite write;
    write.entries.emplace_back(slot, std::move(entry));
    if (absl::Status s = (*store)->Persist(write, absl::GetFlag(FLAGS_sync)); !s.ok()) {
      std::cerr << "apply_bench: " << s << "\n";
      return 1;
    }
    if (auto out = (*store)->ApplySlot(slot, commands); !out.ok()) {
      std::cerr << "apply_bench: " << out.status() << "\n";
      return 1;
    }
  }
  const double cpu = CpuSeconds() - cpu0;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double commands = static_cast<double>(slots) * per_slot;
  std::cout << "commands " << commands << "  cpu " << 1e6 * cpu / commands << " us/command  wall "
            << 1e6 * wall / commands << " us/command\n";
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
