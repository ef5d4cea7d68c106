// kvsctl: read and write a PennCloud KVS replica group from the shell.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "kvs/client/connect.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/ctl/kvsctl_cluster.h"
#include "kvs/ctl/kvsctl_node.h"

ABSL_FLAG(std::string, group, "",
          "The replica group: comma-separated client addresses of its replicas. Default: "
          "$PENNCLOUD_KVS.");
ABSL_FLAG(std::string, config, "",
          "The config group of a sharded store: comma-separated client addresses. With it, "
          "the data commands go through the cluster map. Default: $PENNCLOUD_KVS_CONFIG "
          "(when --group and $PENNCLOUD_KVS are unset).");
ABSL_FLAG(bool, no_wait, false,
          "group add/remove: only plan the range moves (run 'kvsctl rebalance' later).");
ABSL_FLAG(int, virtual_nodes, 192, "cluster init: ring tokens per group (1..4096).");
ABSL_FLAG(std::string, after, "", "list: start after this column.");
ABSL_FLAG(int, limit, 100, "list: at most this many columns (1..1000).");
ABSL_FLAG(bool, values, false, "list: print values too (column<TAB>value).");
ABSL_FLAG(bool, absent, false, "cput: succeed only if the cell does not exist (no EXPECTED).");
ABSL_FLAG(int, timeout_ms, 10000, "Give up (exit 1, UNAVAILABLE) after this long.");
ABSL_FLAG(std::string, peer_address, "",
          "node add/replace: the new replica's peer address (default: its client address).");
ABSL_FLAG(int, node_timeout_ms, 60000,
          "node add/remove/replace: give up after this long (includes the new replica's "
          "catch-up).");

namespace {

constexpr char kUsage[] =
    "kvsctl [--group=host:port,...] COMMAND ARGS\n"
    "  get ROW COLUMN              print the value (exit 3 if the cell does not exist)\n"
    "  put ROW COLUMN VALUE        write (VALUE '-' reads standard input)\n"
    "  cput ROW COLUMN EXPECTED VALUE   write if the cell holds EXPECTED; with --absent:\n"
    "  cput --absent ROW COLUMN VALUE   write if the cell does not exist (exit 4 if not written)\n"
    "  delete ROW COLUMN           delete the cell (succeeds if it does not exist)\n"
    "  cdelete ROW COLUMN EXPECTED delete the cell if it holds EXPECTED (exit 4 if not deleted)\n"
    "  list ROW [--after=C] [--limit=N] [--values]   columns of a row, in order\n"
    "  status                      one line per replica: id, role, leader, slots, log size, map\n"
    "Sharded store (--config=host:port,...):\n"
    "  cluster init ID@1=h:p,2=h:p,3=h:p ...   store map version 1 with these groups\n"
    "  cluster show                the map: version, groups, replicas, migrations\n"
    "  group add ID@1=h:p,...      add a group and move its ranges to it [--no_wait: plan only]\n"
    "  group remove ID             move a group's ranges away, then drop it [--no_wait]\n"
    "  rebalance progress          ranges and bytes moved and left\n"
    "  rebalance                   move the planned ranges (resumes an interrupted rebalance)\n"
    "Replicas of one group (sharded: --config and the group id; unsharded: --group, no GROUP):\n"
    "  node add [GROUP] ID ADDRESS [--peer_address=P]   add a replica (its kvs_server --join\n"
    "                              must be running): learner, catch-up, voter\n"
    "  node remove [GROUP] ID      remove a replica (a leader hands over first)\n"
    "  node replace [GROUP] OLD_ID NEW_ID ADDRESS   add NEW_ID, then remove OLD_ID\n"
    "Exit status: 0 ok, 1 error (message on stderr), 2 usage, 3 not found, 4 cput/cdelete not "
    "applied.";

int Fail(const absl::Status& status) {
  std::cerr << "kvsctl: " << status << "\n";
  return 1;
}

int Usage(const std::string& why) {
  std::cerr << "kvsctl: " << why << "\n" << kUsage << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> rest = penncloud::config::ParseFlags(argc, argv, "kvsctl");
  std::vector<std::string> args(rest.begin() + 1, rest.end());
  if (args.empty()) return Usage("no command");
  // An operator's tool: its certificate must grant the admin role (the cluster's own is
  // state/tls/kvsctl.crt: `kvsctl --tls_dir=state/tls ...`).
  if (absl::Status s =
          penncloud::tls::InitProcess("kvsctl", penncloud::tls::Identity::Admin("kvsctl"));
      !s.ok()) {
    return Fail(s);
  }
  std::string config = absl::GetFlag(FLAGS_config);
  std::string spec = absl::GetFlag(FLAGS_group);
  if (spec.empty() && config.empty() && std::getenv("PENNCLOUD_KVS") != nullptr) {
    spec = std::getenv("PENNCLOUD_KVS");
  }
  if (spec.empty() && config.empty() && std::getenv("PENNCLOUD_KVS_CONFIG") != nullptr) {
    config = std::getenv("PENNCLOUD_KVS_CONFIG");
  }
  const std::string& cmd = args[0];
  if (cmd == "node") {
    penncloud::kvs::kvsctl::NodeFlags flags;
    flags.config = spec.empty() ? config : "";
    flags.group = spec;
    flags.peer_address = absl::GetFlag(FLAGS_peer_address);
    flags.timeout_ms = absl::GetFlag(FLAGS_node_timeout_ms);
    return penncloud::kvs::kvsctl::RunNodeCommand(args, flags);
  }
  if (cmd == "cluster" || cmd == "group" || cmd == "rebalance") {
    penncloud::kvs::kvsctl::ClusterFlags flags;
    flags.config = config;
    flags.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
    flags.virtual_nodes = absl::GetFlag(FLAGS_virtual_nodes);
    flags.no_wait = absl::GetFlag(FLAGS_no_wait);
    return penncloud::kvs::kvsctl::RunClusterCommand(args, flags);
  }
  if (spec.empty() && config.empty()) {
    return Usage(
        "no store: pass --group or --config, or set PENNCLOUD_KVS or PENNCLOUD_KVS_CONFIG");
  }
  std::vector<std::string> addresses;
  for (absl::string_view a :
       absl::StrSplit(spec.empty() ? config : spec, ',', absl::SkipWhitespace())) {
    addresses.emplace_back(a);
  }
  penncloud::kvs::ReplicaGroupOptions options;
  options.deadline = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  penncloud::kvs::ReplicaGroupClient group_client(addresses, options);
  // With --config the data commands go through the sharded client; `status` always
  // reports the named group's replicas (the config group's with --config alone).
  std::unique_ptr<penncloud::kvs::Client> sharded;
  if (spec.empty() && cmd != "status") {
    auto connected = penncloud::kvs::Connect("config=" + config);
    if (!connected.ok()) return Fail(connected.status());
    sharded = std::move(*connected);
  }
  penncloud::kvs::Client& client =
      sharded != nullptr ? *sharded : static_cast<penncloud::kvs::Client&>(group_client);

  const size_t n = args.size() - 1;
  if (cmd == "get") {
    if (n != 2) return Usage("get takes ROW COLUMN");
    auto value = client.Get(args[1], args[2]);
    if (absl::IsNotFound(value.status())) {
      std::cerr << "kvsctl: no such cell\n";
      return 3;
    }
    if (!value.ok()) return Fail(value.status());
    std::cout << *value << "\n";
    return 0;
  }
  if (cmd == "put") {
    if (n != 3) return Usage("put takes ROW COLUMN VALUE");
    std::string value = args[3];
    if (value == "-") {
      value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    absl::Status s = client.Put(args[1], args[2], value);
    return s.ok() ? 0 : Fail(s);
  }
  if (cmd == "cput") {
    const bool absent = absl::GetFlag(FLAGS_absent);
    if (n != (absent ? 3u : 4u)) {
      return Usage("cput takes ROW COLUMN EXPECTED VALUE, or --absent ROW COLUMN VALUE");
    }
    std::optional<std::string_view> expected;
    if (!absent) expected = args[3];
    auto done = client.CPut(args[1], args[2], expected, args[absent ? 3 : 4]);
    if (!done.ok()) return Fail(done.status());
    if (!*done) {
      std::cerr << "kvsctl: cput not applied: the cell did not hold the expected value\n";
      return 4;
    }
    return 0;
  }
  if (cmd == "delete") {
    if (n != 2) return Usage("delete takes ROW COLUMN");
    absl::Status s = client.Delete(args[1], args[2]);
    return s.ok() ? 0 : Fail(s);
  }
  if (cmd == "cdelete") {
    if (n != 3) return Usage("cdelete takes ROW COLUMN EXPECTED");
    auto done = client.CDelete(args[1], args[2], args[3]);
    if (!done.ok()) return Fail(done.status());
    if (!*done) {
      std::cerr << "kvsctl: cdelete not applied: the cell did not hold the expected value\n";
      return 4;
    }
    return 0;
  }
  if (cmd == "list") {
    if (n != 1) return Usage("list takes ROW");
    penncloud::kvs::ListOptions list;
    list.after = absl::GetFlag(FLAGS_after);
    list.limit = absl::GetFlag(FLAGS_limit);
    list.with_values = absl::GetFlag(FLAGS_values);
    auto page = client.List(args[1], list);
    if (!page.ok()) return Fail(page.status());
    for (const auto& cell : page->cells) {
      std::cout << cell.column;
      if (list.with_values) std::cout << "\t" << cell.value;
      std::cout << "\n";
    }
    if (page->more)
      std::cerr << "(more: continue with --after=" << page->cells.back().column << ")\n";
    return 0;
  }
  if (cmd == "status") {
    if (n != 0) return Usage("status takes no arguments");
    int reachable = 0;
    for (const auto& [address, status] : group_client.StatusAll()) {
      if (!status.ok()) {
        std::cout << address << " unreachable: " << status.status().message() << "\n";
        continue;
      }
      ++reachable;
      std::cout << address << " id=" << status->id() << " role=" << status->role()
                << " leader=" << status->leader_id() << " ballot=" << status->ballot()
                << " commit=" << status->commit_slot() << " applied=" << status->applied_slot()
                << " log=" << status->first_log_slot() << ".." << status->last_log_slot()
                << " snapshot=" << status->snapshot_slot() << " log_bytes=" << status->log_bytes()
                << " group=" << status->group() << " map=" << status->map_version() << "\n";
    }
    return reachable > 0 ? 0 : 1;
  }
  return Usage("unknown command '" + cmd + "'");
}
