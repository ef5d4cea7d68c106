#include "kvs/server/peer_book.h"

#include "kvs/paxos/membership.h"

namespace penncloud::kvs::server {

bool PeerBook::Load(const std::map<uint64_t, std::string>& peers,
                    const std::map<uint64_t, std::string>& client_addresses,
                    const std::optional<std::string>& stored) {
  std::map<uint64_t, pb::Member> book;
  for (const auto& [id, address] : peers) {
    pb::Member& m = book[id];
    m.set_id(id);
    m.set_peer_address(address);
    auto client = client_addresses.find(id);
    m.set_address(client != client_addresses.end() ? client->second : address);
  }
  bool readable = true;
  if (stored) {
    pb::PeerBook log;
    readable = log.ParseFromString(*stored);
    if (readable) {
      for (const pb::Member& m : log.members()) book[m.id()] = m;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  book_ = std::move(book);
  return readable;
}

std::string PeerBook::Set(const pb::Member& member) {
  pb::PeerBook out;
  std::lock_guard<std::mutex> lock(mu_);
  book_[member.id()] = member;
  for (const auto& [id, m] : book_) *out.add_members() = m;
  return out.SerializeAsString();
}

std::map<uint64_t, pb::Member> PeerBook::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_;
}

std::optional<pb::Member> PeerBook::Find(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = book_.find(id);
  if (it == book_.end()) return std::nullopt;
  return it->second;
}

std::string PeerBook::ClientAddress(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = book_.find(id);
  return it == book_.end() ? std::string() : it->second.address();
}

uint64_t PeerBook::AddressUsedBy(const paxos::Membership& membership,
                                 const pb::Member& candidate) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, m] : book_) {
    if (id != candidate.id() && paxos::IsMember(membership, id) &&
        (m.peer_address() == candidate.peer_address() || m.address() == candidate.address())) {
      return id;
    }
  }
  return 0;
}

}  // namespace penncloud::kvs::server
