// paxos_sim: runs the seeded Multi-Paxos simulation over many seeds.
//   paxos_sim --seeds 500 --replicas 3                 (one group, CI)
//   paxos_sim --groups 2 --changes 2 --seeds 300       (config group + data groups, CI)
//   paxos_sim --first_seed 1234 --seeds 1 --verbose    (replay one seed)
// Flags: --seeds N, --first_seed S, --replicas 3|5, --chaos_ticks T, --liveness_ticks T,
//        --no_faults, --no_garbage (no garbage sender), --no_lincheck, --verbose;
//        multi-group mode: --groups G (data groups in the first map), --changes C
//        (rebalances: add, remove, add, ...),
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
  bool faults = true, garbage = true, lincheck = true, verbose = false;
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
    } else if (a == "--no_garbage") {
      f.garbage = false;
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
    << liveness << (f.faults ? "" : " --no_faults") << (f.garbage ? "" : " --no_garbage")
    << (f.lincheck ? "" : " --no_lincheck") << " --verbose";
  return s.str();
}

void Add(sim::SimResult& total, const sim::SimResult& r) {
  total += r;
  total.slots_chosen += r.slots_chosen;
}

void Add(sim::MultiResult& total, const sim::MultiResult& r) {
  total += r;
  total.replicas_replaced += r.replicas_replaced;
  total.rebalancer_restarts += r.rebalancer_restarts;
  total.map_versions += r.map_versions;
  total.migrations_done += r.migrations_done;
  total.ranges_moved_in_chaos += r.ranges_moved_in_chaos;
  total.rebalances_cut_by_heal += r.rebalances_cut_by_heal;
  total.groups_added += r.groups_added;
  total.groups_removed += r.groups_removed;
  total.wrong_group_answers += r.wrong_group_answers;
  total.max_stall_ticks = std::max(total.max_stall_ticks, r.max_stall_ticks);
  total.max_rebalance_after_heal =
      std::max(total.max_rebalance_after_heal, r.max_rebalance_after_heal);
}

// The chosen commands by operation, and what the expiry sweeps did.
std::string Chosen(const sim::RunCounts& t) {
  std::ostringstream s;
  s << "\n  chosen: put=" << t.puts << " cput=" << t.cputs << " delete=" << t.deletes
    << " cdelete=" << t.cdeletes << " expiry_sweeps=" << t.sweeps
    << " sessions_expired=" << t.sessions_expired << " expired_refusals=" << t.expired_refusals
    << " other=" << t.other_commands;
  return s.str();
}

std::string Figures(const sim::SimResult& t) {
  std::ostringstream s;
  s << " ops=" << t.ops_completed << " unknown_ops=" << t.ops_incomplete
    << " slots=" << t.slots_chosen << " msgs=" << t.messages << " crashes=" << t.crashes
    << " partitions=" << t.partitions << " snapshot_installs=" << t.snapshots_installed
    << " leader_changes=" << t.leader_changes << " reconfigs=" << t.reconfigs
    << " garbage=" << t.garbage << " garbage_authn=" << t.garbage_authn
    << " honest_not_member=" << t.honest_not_member << Chosen(t);
  return s.str();
}

std::string Figures(const sim::MultiResult& t) {
  std::ostringstream s;
  s << " ops=" << t.ops_completed << " unknown_ops=" << t.ops_incomplete << " msgs=" << t.messages
    << " crashes=" << t.crashes << " partitions=" << t.partitions
    << " snapshot_installs=" << t.snapshots_installed << " reconfigs=" << t.reconfigs
    << " new_replicas=" << t.replicas_replaced << " rebalancer_restarts=" << t.rebalancer_restarts
    << " map_versions=" << t.map_versions << " ranges_moved=" << t.migrations_done
    << " (in_chaos=" << t.ranges_moved_in_chaos << ")"
    << " healed_mid_rebalance=" << t.rebalances_cut_by_heal << " groups_added=" << t.groups_added
    << " groups_removed=" << t.groups_removed << " wrong_group_answers=" << t.wrong_group_answers
    << " max_stall_after_heal=" << t.max_stall_ticks
    << " max_rebalance_after_heal=" << t.max_rebalance_after_heal << " garbage=" << t.garbage
    << " garbage_authn=" << t.garbage_authn << " honest_not_member=" << t.honest_not_member
    << Chosen(t);
  return s.str();
}

// Runs the seeds in order with `base` (each with its own seed) until one fails, which is
// printed with the command that replays it; then the totals. `mode` names the settings in
// a failure line, `settings` in the totals line.
template <class Options, class Result>
int RunSeeds(const Flags& f, const Options& base, Result (*run)(const Options&),
             const std::string& mode, const std::string& settings) {
  const auto start = std::chrono::steady_clock::now();
  Result total;
  uint64_t passed = 0, failed = 0;
  for (uint64_t s = f.first; s < f.first + f.seeds; ++s) {
    Options o = base;
    o.seed = s;
    const Result r = run(o);
    Add(total, r);
    if (r.ok) {
      ++passed;
      continue;
    }
    ++failed;
    std::cout << "FAIL seed=" << s << " " << mode << ": " << r.failure << "\n"
              << "  replay: " << Replay(f, s, o.chaos_ticks, o.liveness_ticks) << "\n";
    break;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "paxos_sim " << settings << " seeds=" << passed + failed << " time=" << secs
            << "s seeds/s=" << (passed + failed) / std::max(secs, 1e-9) << Figures(total) << "\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

// The settings both modes take from the flags (either's defaults stand for the rest).
template <class Options>
Options CommonOptions(const Flags& f) {
  Options o;
  o.replicas = f.replicas;
  if (f.chaos_ticks >= 0) o.chaos_ticks = f.chaos_ticks;
  if (f.liveness_ticks >= 0) o.liveness_ticks = f.liveness_ticks;
  o.faults = f.faults;
  o.garbage = f.garbage;
  o.lincheck = f.lincheck;
  o.verbose = f.verbose;
  return o;
}

int RunSingle(const Flags& f) {
  const auto base = CommonOptions<sim::SimOptions>(f);
  const std::string replicas = "replicas=" + std::to_string(base.replicas);
  return RunSeeds(f, base, &sim::RunSimulation, replicas, replicas);
}

int RunMulti(const Flags& f) {
  auto base = CommonOptions<sim::MultiOptions>(f);
  base.groups = f.groups;
  base.changes = f.changes;
  base.install_chunks = f.install_chunks;
  base.bug = f.bug == "source_serves_after_switch" ? sim::Bug::kSourceServesAfterSwitch
             : f.bug == "copy_before_freeze"       ? sim::Bug::kCopyBeforeFreeze
             : f.bug == "activate_before_install"  ? sim::Bug::kActivateBeforeInstall
             : f.bug == "unnumbered_chunks"        ? sim::Bug::kUnnumberedChunks
                                                   : sim::Bug::kNone;
  const std::string groups = "groups=" + std::to_string(base.groups);
  return RunSeeds(f, base, &sim::RunMultiGroup, groups,
                  groups + " replicas=" + std::to_string(base.replicas) +
                      " changes=" + std::to_string(base.changes));
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  return f.groups > 0 ? RunMulti(f) : RunSingle(f);
}
