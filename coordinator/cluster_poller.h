// The coordinator's view of the KVS tier: about once a second it reads the cluster map
// from the config group and the Status of every replica of the config group and of every
// data group in the map, derives rates from the counters, and records the charts' samples
// (groups' operations/s, and the frontends' load from the registry) in the History.
//
// Everything is polled in parallel with a short deadline, so a dead replica costs the
// poll at most that deadline. The last answer of a replica is kept while it is down, so
// the console can still show where it stopped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/certificate.h"
#include "coordinator/history.h"
#include "coordinator/registry.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/cluster_map.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::coordinator {

// Which replicas make up the store, from the coordinator's --kvs spec.
struct KvsLayout {
  // "config=a,b,c": the config group's client addresses (the data groups come from the map).
  std::vector<std::string> config;
  // "a,b,c" (one unsharded group): shown as group "1".
  std::vector<std::string> single_group;

  static KvsLayout FromSpec(const std::string& spec);  // "memory" and "" give an empty layout
};

struct ReplicaView {
  std::string group;  // "config", "1", ...
  uint64_t replica = 0;
  std::string address;
  bool learner = false;
  bool up = false;                                  // answered the last poll
  std::optional<kvs::pb::StatusResponse> status;    // the last answer (kept while down)
  std::optional<tls::CertificateInfo> certificate;  // what it presented (kept while down)
  std::optional<double> requests_per_second;        // when the replica reports a counter
  int64_t up_since_unix_ms = 0;  // process start (as reported), else first answer seen
};

struct GroupView {
  std::string id;
  std::vector<uint64_t> replicas;  // members, in map order
  std::optional<uint64_t> leader;  // replica id of the leader, when one is up
  double ops_per_second = 0;       // commands applied per second at the leader
};

struct ClusterView {
  int64_t polled_unix_ms = 0;
  std::optional<kvs::shard::ClusterMap> map;  // the last map read
  std::vector<ReplicaView> replicas;          // config group first, then groups by id
  std::vector<GroupView> groups;
};

struct ClusterPollerOptions {
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds status_timeout{500};
};

class ClusterPoller {
 public:
  ClusterPoller(KvsLayout layout, Registry* registry, History* history,
                ClusterPollerOptions options = {});
  ~ClusterPoller();  // stops the thread

  void Start();
  ClusterView View() const;

  // The client addresses of a group's replicas now ("config" or a data group id); empty
  // if the group is unknown.
  std::vector<std::string> GroupAddresses(const std::string& group) const;

 private:
  struct Counter {
    int64_t unix_ms = 0;
    uint64_t value = 0;
  };

  void Loop();
  void PollOnce();
  // Status of each address, in parallel, within options_.status_timeout.
  struct Answer {
    std::optional<kvs::pb::StatusResponse> status;
    std::optional<tls::CertificateInfo> certificate;
  };
  std::vector<Answer> StatusOf(const std::vector<std::string>& addresses);
  kvs::pb::KvsService::Stub* Stub(const std::string& address);
  void SampleFrontends(int64_t now_ms);

  const KvsLayout layout_;
  Registry* const registry_;
  History* const history_;
  const ClusterPollerOptions options_;
  std::unique_ptr<kvs::ReplicaGroupClient> config_client_;

  std::map<std::string, std::unique_ptr<kvs::pb::KvsService::Stub>> stubs_;  // poll thread only
  std::map<std::string, Counter> applied_;   // by address; poll thread only
  std::map<std::string, Counter> requests_;  // by address; poll thread only
  // Each data group's members as its leader reported them; poll thread only.
  std::map<uint64_t, std::vector<kvs::pb::Member>> members_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  ClusterView view_;   // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace penncloud::coordinator
