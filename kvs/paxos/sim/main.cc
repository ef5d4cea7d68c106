// paxos_sim: runs the seeded Multi-Paxos simulation over many seeds.
//   paxos_sim --seeds 500 --replicas 3            (CI)
//   paxos_sim --first_seed 1234 --seeds 1 --verbose   (replay one seed)
// Flags: --seeds N, --first_seed S, --replicas 3|5, --chaos_ticks T, --liveness_ticks T,
//        --no_faults, --no_lincheck, --verbose. Exits 1 on the first failing seed.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "kvs/paxos/sim/simulator.h"

using penncloud::paxos::sim::RunSimulation;
using penncloud::paxos::sim::SimOptions;
using penncloud::paxos::sim::SimResult;

int main(int argc, char** argv) {
  SimOptions base;
  uint64_t seeds = 100, first = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds")
      seeds = std::stoull(value());
    else if (a == "--first_seed")
      first = std::stoull(value());
    else if (a == "--replicas")
      base.replicas = std::stoi(value());
    else if (a == "--chaos_ticks")
      base.chaos_ticks = std::stoi(value());
    else if (a == "--liveness_ticks")
      base.liveness_ticks = std::stoi(value());
    else if (a == "--no_faults")
      base.faults = false;
    else if (a == "--no_lincheck")
      base.lincheck = false;
    else if (a == "--verbose")
      base.verbose = true;
    else {
      std::cerr << "unknown flag " << a << "\n";
      return 2;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  SimResult total;
  uint64_t passed = 0, failed = 0;
  for (uint64_t s = first; s < first + seeds; ++s) {
    SimOptions o = base;
    o.seed = s;
    const SimResult r = RunSimulation(o);
    total.ops_completed += r.ops_completed;
    total.ops_incomplete += r.ops_incomplete;
    total.slots_chosen += r.slots_chosen;
    total.messages += r.messages;
    total.crashes += r.crashes;
    total.partitions += r.partitions;
    total.snapshots_installed += r.snapshots_installed;
    total.leader_changes += r.leader_changes;
    total.reconfigs += r.reconfigs;
    if (r.ok) {
      ++passed;
      continue;
    }
    ++failed;
    std::cout << "FAIL seed=" << s << " replicas=" << o.replicas << ": " << r.failure << "\n"
              << "  replay: paxos_sim --replicas " << o.replicas << " --first_seed " << s
              << " --seeds 1 --chaos_ticks " << o.chaos_ticks << " --liveness_ticks "
              << o.liveness_ticks << (o.faults ? "" : " --no_faults") << " --verbose\n";
    break;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "paxos_sim replicas=" << base.replicas << " seeds=" << passed + failed
            << " time=" << secs << "s seeds/s=" << (passed + failed) / std::max(secs, 1e-9)
            << " ops=" << total.ops_completed << " unknown_ops=" << total.ops_incomplete
            << " slots=" << total.slots_chosen << " msgs=" << total.messages
            << " crashes=" << total.crashes << " partitions=" << total.partitions
            << " snapshot_installs=" << total.snapshots_installed
            << " leader_changes=" << total.leader_changes << " reconfigs=" << total.reconfigs
            << "\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
