// kvs_bench: a closed-loop load generator for PennCloud's key-value store and for etcd,
// the same workload against either. Prints a readable report and one "RESULT {json}" line.
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "kvs/client/connect.h"
#include "stress_test/kvs_bench/proc_cpu.h"
#include "stress_test/kvs_bench/target.h"
#include "stress_test/kvs_bench/workload.h"

ABSL_FLAG(std::string, target, "penncloud", "System to drive: 'penncloud' or 'etcd'.");
ABSL_FLAG(std::string, endpoints, "127.0.0.1:23791",
          "etcd only: comma-separated host:port of etcd client endpoints; connections are "
          "spread over them (list only the leader to avoid etcd's forwarding hop).");
ABSL_FLAG(double, etcd_rpc_timeout, 5,
          "etcd only: seconds before an unanswered RPC fails and its client moves on. A "
          "request parked on a follower during an election waits this long.");
ABSL_FLAG(std::string, etcd_ca_file, "",
          "etcd only: CA bundle (PEM) of etcd's serving certificates; set, the benchmark "
          "speaks TLS to etcd and presents --etcd_cert_file/--etcd_key_file (etcd's "
          "--client-cert-auth). Empty: plaintext.");
ABSL_FLAG(std::string, etcd_cert_file, "", "etcd only: client certificate (PEM) for TLS.");
ABSL_FLAG(std::string, etcd_key_file, "", "etcd only: the client certificate's key (PEM).");
ABSL_FLAG(std::string, kvs, "127.0.0.1:7011,127.0.0.1:7012,127.0.0.1:7013",
          "penncloud only: the replica group's client addresses, as kvs::Connect() takes them.");
ABSL_FLAG(int, clients, 64, "Concurrent clients, each with one operation in flight.");
ABSL_FLAG(int, conns, 4, "Connections (gRPC channels / kvs::Client instances) shared by clients.");
ABSL_FLAG(int, value_size, 128, "Bytes per written value.");
ABSL_FLAG(double, read_fraction, 0.0,
          "Fraction of operations that are linearizable reads (0..1) of keys the client wrote.");
ABSL_FLAG(int, keys_per_client, 32, "Keys each client writes first and then reads/overwrites.");
ABSL_FLAG(double, duration, 20, "Measured seconds.");
ABSL_FLAG(double, warmup, 2, "Seconds of load before measuring (not counted).");
ABSL_FLAG(std::string, key_prefix, "bench", "Prefix of every key (row) the benchmark writes.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the operation mix.");
ABSL_FLAG(std::string, completions_out, "",
          "If set, write the Unix time (microseconds) of every acknowledged operation to this "
          "file, one per line, sorted; kvs_vs_etcd.sh uses it to time a leader failover.");
ABSL_FLAG(std::string, server_pids, "",
          "Comma-separated process ids of the servers under test: their CPU seconds over the "
          "measured window, and per operation, are reported (the figure that still means "
          "something on a shared machine).");

namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// The whole of a PEM file, or an error naming the flag that named it.
absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return absl::NotFoundError("--" + flag + ": cannot read " + path);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Benchmarks a key-value store with N closed-loop clients.\n"
      "  kvs_bench --target=etcd --endpoints=127.0.0.1:23791 --clients=64 --read_fraction=0.9\n"
      "  kvs_bench --target=penncloud --kvs=127.0.0.1:7011,127.0.0.1:7012,127.0.0.1:7013");
  penncloud::config::ParseFlags(argc, argv, "kvs_bench");
  using penncloud::bench::Target;

  penncloud::bench::WorkloadOptions options;
  options.clients = absl::GetFlag(FLAGS_clients);
  options.value_size = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_value_size)));
  options.read_fraction = absl::GetFlag(FLAGS_read_fraction);
  options.keys_per_client = std::max(1, absl::GetFlag(FLAGS_keys_per_client));
  options.duration = Millis(absl::GetFlag(FLAGS_duration));
  options.warmup = Millis(absl::GetFlag(FLAGS_warmup));
  options.key_prefix = absl::GetFlag(FLAGS_key_prefix);
  options.seed = absl::GetFlag(FLAGS_seed);
  const int conns = std::max(1, absl::GetFlag(FLAGS_conns));
  if (absl::StatusOr<std::vector<int>> pids =
          penncloud::bench::ParsePids(absl::GetFlag(FLAGS_server_pids));
      pids.ok()) {
    options.server_pids = *std::move(pids);
  } else {
    std::cerr << "kvs_bench: --server_pids: " << pids.status().message() << "\n";
    return 2;
  }
  if (options.clients < 1 || options.read_fraction < 0 || options.read_fraction > 1) {
    std::cerr << "kvs_bench: need --clients >= 1 and 0 <= --read_fraction <= 1\n";
    return 2;
  }

  const std::string name = absl::GetFlag(FLAGS_target);
  std::unique_ptr<Target> target;
  if (name == "etcd") {
    std::vector<std::string> endpoints =
        absl::StrSplit(absl::GetFlag(FLAGS_endpoints), ',', absl::SkipEmpty());
    if (endpoints.empty()) {
      std::cerr << "kvs_bench: --endpoints is empty\n";
      return 2;
    }
    penncloud::bench::EtcdTls tls;
    if (!absl::GetFlag(FLAGS_etcd_ca_file).empty()) {
      absl::StatusOr<std::string> ca = ReadPem("etcd_ca_file", absl::GetFlag(FLAGS_etcd_ca_file));
      absl::StatusOr<std::string> cert =
          ReadPem("etcd_cert_file", absl::GetFlag(FLAGS_etcd_cert_file));
      absl::StatusOr<std::string> key =
          ReadPem("etcd_key_file", absl::GetFlag(FLAGS_etcd_key_file));
      for (const absl::Status& s : {ca.status(), cert.status(), key.status()}) {
        if (!s.ok()) {
          std::cerr << "kvs_bench: " << s.message() << "\n";
          return 2;
        }
      }
      tls = {.ca = *std::move(ca), .cert = *std::move(cert), .key = *std::move(key)};
    }
    target = penncloud::bench::MakeEtcdTarget(endpoints, conns,
                                              Millis(absl::GetFlag(FLAGS_etcd_rpc_timeout)), tls);
  } else if (name == "penncloud") {
    // The benchmark is a client like any tier: mutual TLS with its own certificate
    // (--tls_dir holding kvs-bench.crt, an admin identity), or --insecure_plaintext.
    if (absl::Status s =
            penncloud::tls::InitProcess("kvs-bench", penncloud::tls::Identity::Admin("kvs-bench"));
        !s.ok()) {
      std::cerr << "kvs_bench: " << s.message() << "\n";
      return 2;
    }
    std::vector<std::unique_ptr<penncloud::kvs::Client>> clients;
    for (int i = 0; i < conns; ++i) {
      auto client = penncloud::kvs::Connect(absl::GetFlag(FLAGS_kvs));
      if (!client.ok()) {
        std::cerr << "kvs_bench: " << client.status() << "\n";
        return 2;
      }
      clients.push_back(*std::move(client));
    }
    target = penncloud::bench::MakePennCloudTarget(std::move(clients));
  } else {
    std::cerr << "kvs_bench: --target must be 'penncloud' or 'etcd'\n";
    return 2;
  }

  const penncloud::bench::Report report = penncloud::bench::RunWorkload(*target, options);
  std::cout << penncloud::bench::FormatReport(report, name);
  std::cout << "RESULT " << penncloud::bench::ReportJson(report, name) << std::endl;
  if (const std::string path = absl::GetFlag(FLAGS_completions_out); !path.empty()) {
    std::ofstream out(path);
    for (int64_t t : report.completions_unix_us) out << t << "\n";
    if (!out) std::cerr << "kvs_bench: could not write " << path << "\n";
  }
  // A wrong read is a correctness failure of the target, not a slow run: say so loudly.
  if (report.wrong_reads > 0) return 3;
  return report.all.ok > 0 ? 0 : 1;
}
