// How to reach every replica the group ever named, by id: the flags this process started
// with (--peers, --client_addrs), overruled by what the log said (OP_SET_PEER, stored in
// the meta key "peers" and part of snapshots). Ids are never reused, so a removed replica
// stays known. Read by gRPC threads, written by the loop: it locks itself.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "kvs/paxos/node.h"
#include "proto/kvs.pb.h"

namespace penncloud::kvs::server {

class PeerBook {
 public:
  // Replaces the book: one member per flag entry, then every stored member (a serialized
  // pb::PeerBook; nullopt: none). False if the stored bytes do not parse (the flags stand).
  bool Load(const std::map<uint64_t, std::string>& peers,
            const std::map<uint64_t, std::string>& client_addresses,
            const std::optional<std::string>& stored);
  // Adds or replaces a member; returns the whole book, serialized, to store.
  std::string Set(const pb::Member& member);

  std::map<uint64_t, pb::Member> All() const;
  std::optional<pb::Member> Find(uint64_t id) const;
  bool Knows(uint64_t id) const { return Find(id).has_value(); }
  // The client address of replica `id` ("" if unknown).
  std::string ClientAddress(uint64_t id) const;
  // A member of `membership` other than `candidate` that already uses one of its
  // addresses (0: none).
  uint64_t AddressUsedBy(const paxos::Membership& membership, const pb::Member& candidate) const;

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, pb::Member> book_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs::server
