// paxos_sim: runs the seeded Multi-Paxos simulation over many seeds.
//   paxos_sim --seeds 500 --replicas 3                 (one group, CI)
//   paxos_sim --groups 2 --changes 2 --seeds 300       (config group + data groups, CI)
//   paxos_sim --first_seed 1234 --seeds 1 --verbose    (replay one seed)
// Flags: --seeds N, --first_seed S, --replicas 3|5, --chaos_ticks T, --liveness_ticks T,
//        --no_faults, --no_lincheck, --verbose; multi-group mode: --groups G (data groups
//        in the first map), --changes C (rebalances: add, remove, add, ...),
//        --install_chunks N (installs cut into 1..N chunks; default 1), and the
//        test-only --bug source_serves_after_switch|copy_before_freeze|activate_before_install|
//        unnumbered_chunks.
// Exits 1 on the first failing seed, 2 on bad flags.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "kvs/paxos/sim/multi_group.h"
#include "kvs/paxos/sim/simulator.h"

namespace sim = penncloud::paxos::sim;

namespace {

struct Flags {
  uint64_t seeds = 100, first = 1;
  int groups = 0;  // 0: the single-group mode
  int changes = 2;
  int install_chunks = 1;
  int replicas = 3;
  int chaos_ticks = -1, liveness_ticks = -1;  // -1: the mode's default
  bool faults = true, lincheck = true, verbose = false;
  std::string bug = "none";
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "paxos_sim: " << why << "\n";
  std::exit(2);
}

int ToInt(const std::string& flag, const std::string& v, int lo, int hi) {
  try {
    size_t used = 0;
    const long x = std::stol(v, &used);
    if (used == v.size() && x >= lo && x <= hi) return int(x);
  } catch (const std::exception&) {
  }
  Usage(flag + " wants a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
        "], got '" + v + "'");
}

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--seeds") {
      f.seeds = uint64_t(ToInt(a, value(), 1, 1 << 30));
    } else if (a == "--first_seed") {
      const std::string v = value();
      try {
        f.first = std::stoull(v);
      } catch (const std::exception&) {
        Usage("--first_seed wants a number, got '" + v + "'");
      }
    } else if (a == "--replicas") {
      f.replicas = ToInt(a, value(), 3, 5);
      if (f.replicas == 4) Usage("--replicas must be 3 or 5");
    } else if (a == "--groups") {
      f.groups = ToInt(a, value(), 1, 8);
    } else if (a == "--changes") {
      f.changes = ToInt(a, value(), 0, 8);
    } else if (a == "--install_chunks") {
      f.install_chunks = ToInt(a, value(), 1, 16);
    } else if (a == "--chaos_ticks") {
      f.chaos_ticks = ToInt(a, value(), 0, 1000000);
    } else if (a == "--liveness_ticks") {
      f.liveness_ticks = ToInt(a, value(), 1, 1000000);
    } else if (a == "--bug") {
      f.bug = value();
      if (f.bug != "none" && f.bug != "source_serves_after_switch" &&
          f.bug != "copy_before_freeze" && f.bug != "activate_before_install" &&
          f.bug != "unnumbered_chunks") {
        Usage("unknown --bug " + f.bug);
      }
    } else if (a == "--no_faults") {
      f.faults = false;
    } else if (a == "--no_lincheck") {
      f.lincheck = false;
    } else if (a == "--verbose") {
      f.verbose = true;
    } else {
      Usage("unknown flag " + a);
    }
  }
  if (f.groups == 0 && f.bug != "none") Usage("--bug needs --groups");
  return f;
}

// The command that replays one seed with the same settings.
std::string Replay(const Flags& f, uint64_t seed, int chaos, int liveness) {
  std::ostringstream s;
  s << "paxos_sim --replicas " << f.replicas;
  if (f.groups > 0) s << " --groups " << f.groups << " --changes " << f.changes;
  if (f.install_chunks > 1) s << " --install_chunks " << f.install_chunks;
  if (f.bug != "none") s << " --bug " << f.bug;
  s << " --first_seed " << seed << " --seeds 1 --chaos_ticks " << chaos << " --liveness_ticks "
    << liveness << (f.faults ? "" : " --no_faults") << (f.lincheck ? "" : " --no_lincheck")
    << " --verbose";
  return s.str();
}

int RunSingle(const Flags& f) {
  sim::SimOptions base;
  base.replicas = f.replicas;
  if (f.chaos_ticks >= 0) base.chaos_ticks = f.chaos_ticks;
  if (f.liveness_ticks >= 0) base.liveness_ticks = f.liveness_ticks;
  base.faults = f.faults;
  base.lincheck = f.lincheck;
  base.verbose = f.verbose;
  const auto start = std::chrono::steady_clock::now();
  sim::SimResult total;
  uint64_t passed = 0, failed = 0;
  for (uint64_t s = f.first; s < f.first + f.seeds; ++s) {
    sim::SimOptions o = base;
    o.seed = s;
    const sim::SimResult r = sim::RunSimulation(o);
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
              << "  replay: " << Replay(f, s, o.chaos_ticks, o.liveness_ticks) << "\n";
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

int RunMulti(const Flags& f) {
  sim::MultiOptions base;
  base.groups = f.groups;
  base.replicas = f.replicas;
  base.changes = f.changes;
  base.install_chunks = f.install_chunks;
  if (f.chaos_ticks >= 0) base.chaos_ticks = f.chaos_ticks;
  if (f.liveness_ticks >= 0) base.liveness_ticks = f.liveness_ticks;
  base.faults = f.faults;
  base.lincheck = f.lincheck;
  base.verbose = f.verbose;
  base.bug = f.bug == "source_serves_after_switch" ? sim::Bug::kSourceServesAfterSwitch
             : f.bug == "copy_before_freeze"       ? sim::Bug::kCopyBeforeFreeze
             : f.bug == "activate_before_install"  ? sim::Bug::kActivateBeforeInstall
             : f.bug == "unnumbered_chunks"        ? sim::Bug::kUnnumberedChunks
                                                   : sim::Bug::kNone;
  const auto start = std::chrono::steady_clock::now();
  sim::MultiResult t;
  uint64_t passed = 0, failed = 0;
  for (uint64_t s = f.first; s < f.first + f.seeds; ++s) {
    sim::MultiOptions o = base;
    o.seed = s;
    const sim::MultiResult r = sim::RunMultiGroup(o);
    t.ops_completed += r.ops_completed;
    t.ops_incomplete += r.ops_incomplete;
    t.messages += r.messages;
    t.crashes += r.crashes;
    t.partitions += r.partitions;
    t.snapshots_installed += r.snapshots_installed;
    t.reconfigs += r.reconfigs;
    t.replicas_replaced += r.replicas_replaced;
    t.rebalancer_restarts += r.rebalancer_restarts;
    t.map_versions += r.map_versions;
    t.migrations_done += r.migrations_done;
    t.ranges_moved_in_chaos += r.ranges_moved_in_chaos;
    t.rebalances_cut_by_heal += r.rebalances_cut_by_heal;
    t.groups_added += r.groups_added;
    t.groups_removed += r.groups_removed;
    t.wrong_group_answers += r.wrong_group_answers;
    if (r.ok) {
      ++passed;
      continue;
    }
    ++failed;
    std::cout << "FAIL seed=" << s << " groups=" << o.groups << ": " << r.failure << "\n"
              << "  replay: " << Replay(f, s, o.chaos_ticks, o.liveness_ticks) << "\n";
    break;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "paxos_sim groups=" << base.groups << " replicas=" << base.replicas
            << " changes=" << base.changes << " seeds=" << passed + failed << " time=" << secs
            << "s seeds/s=" << (passed + failed) / std::max(secs, 1e-9)
            << " ops=" << t.ops_completed << " unknown_ops=" << t.ops_incomplete
            << " msgs=" << t.messages << " crashes=" << t.crashes << " partitions=" << t.partitions
            << " snapshot_installs=" << t.snapshots_installed << " reconfigs=" << t.reconfigs
            << " new_replicas=" << t.replicas_replaced
            << " rebalancer_restarts=" << t.rebalancer_restarts
            << " map_versions=" << t.map_versions << " ranges_moved=" << t.migrations_done
            << " (in_chaos=" << t.ranges_moved_in_chaos << ")"
            << " healed_mid_rebalance=" << t.rebalances_cut_by_heal
            << " groups_added=" << t.groups_added << " groups_removed=" << t.groups_removed
            << " wrong_group_answers=" << t.wrong_group_answers << "\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  return f.groups > 0 ? RunMulti(f) : RunSingle(f);
}
