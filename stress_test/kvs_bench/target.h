// What kvs_bench drives: a key-value store reduced to the two calls the workloads need.
// One implementation speaks etcd v3's gRPC API, the other goes through PennCloud's own
// client library, so both systems see byte-for-byte the same workload.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::bench {

class Target {
 public:
  virtual ~Target() = default;
  // `client` is the benchmark client (thread) making the call; implementations with
  // several connections use it to pin each client to one.
  virtual absl::Status Put(int client, const std::string& key, const std::string& value) = 0;
  // A linearizable read; std::nullopt when the key does not exist.
  virtual absl::StatusOr<std::optional<std::string>> Get(int client, const std::string& key) = 0;
};

// PEM contents (not paths) for etcd over TLS with a client certificate, as etcd's
// --client-cert-auth asks. All empty: plaintext.
struct EtcdTls {
  std::string ca;    // the CA bundle etcd's serving certificate chains to
  std::string cert;  // the client certificate
  std::string key;   // its private key
  bool enabled() const { return !ca.empty(); }
};

// etcd v3 over gRPC: Put = KV.Put, Get = KV.Range with serializable=false. Clients are
// spread over `connections` channels, which are spread over `endpoints` (host:port). An RPC
// that gets no answer within `rpc_timeout` fails (DEADLINE_EXCEEDED) and the client moves on.
std::unique_ptr<Target> MakeEtcdTarget(
    const std::vector<std::string>& endpoints, int connections,
    std::chrono::milliseconds rpc_timeout = std::chrono::seconds(5), const EtcdTls& tls = {});

// PennCloud through kvs::Client instances (one per connection, clients spread over them).
// A key is stored as row = key, column "v".
std::unique_ptr<Target> MakePennCloudTarget(std::vector<std::unique_ptr<kvs::Client>> clients);

}  // namespace penncloud::bench
