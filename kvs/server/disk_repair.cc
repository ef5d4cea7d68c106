#include "kvs/server/disk_repair.h"

#include <map>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "grpcpp/grpcpp.h"
#include "kvs/server/peer_survey.h"
#include "kvs/shard/hash_ring.h"
#include "kvs/storage/disk_files.h"
#include "kvs/storage/replica_store.h"
#include "kvs/storage/snapshot_file.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMarker[] = "REPAIR_NEEDED";
constexpr auto kRetryEvery = std::chrono::milliseconds(200);
constexpr auto kStatusDeadline = std::chrono::seconds(2);
constexpr auto kFetchDeadline = std::chrono::seconds(120);

std::string MarkerPath(const std::string& data_dir) { return data_dir + "/" + kMarker; }

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, tls::ChannelCredentials(), args);
}

absl::StatusOr<pb::StatusResponse> StatusOf(const std::string& address) {
  auto stub = pb::KvsService::NewStub(ChannelTo(address));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStatusDeadline);
  pb::StatusResponse status;
  grpc::Status s = stub->Status(&context, pb::StatusRequest(), &status);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat(address, ": ", s.error_message()));
  return status;
}

// Every peer that answers, by id: those in --peers and any member an answer names (whose
// addresses `addresses` then holds as well).
std::map<uint64_t, pb::StatusResponse> AskPeers(const ReplicaOptions& options,
                                                std::map<uint64_t, std::string>* addresses_out) {
  std::map<uint64_t, std::string>& addresses = *addresses_out;
  addresses = options.peers;
  std::map<uint64_t, pb::StatusResponse> answers;
  for (int round = 0; round < 2; ++round) {  // the second for voters only an answer named
    for (const auto& [id, address] : addresses) {
      if (id == options.id || answers.contains(id)) continue;
      if (absl::StatusOr<pb::StatusResponse> s = StatusOf(address); s.ok()) answers[id] = *s;
    }
    for (const auto& [id, status] : answers) {
      for (const pb::Member& m : status.members()) {
        if (!m.peer_address().empty()) addresses.emplace(m.id(), m.peer_address());
      }
    }
  }
  return answers;
}

paxos::Membership MembershipOf(const pb::StatusResponse& status, uint32_t window) {
  paxos::Membership m;
  for (const pb::Member& member : status.members()) {
    if (member.learner()) {
      m.add_learners(member.id());
    } else {
      m.add_voters(member.id());
    }
  }
  m.set_window(window);
  return m;
}

// Streams `source`'s snapshot into a download in `dir`; returns its slot.
absl::StatusOr<uint64_t> Download(const ReplicaOptions& options, const std::string& address,
                                  const std::string& dir) {
  auto download = storage::SnapshotDownload::Create(dir);
  if (!download.ok()) return download.status();
  auto stub = pb::KvsPeer::NewStub(ChannelTo(address));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kFetchDeadline);
  pb::SnapshotRequest request;
  request.set_from(options.id);
  auto reader = stub->FetchSnapshot(&context, request);
  pb::SnapshotChunk chunk;
  bool last = false;
  absl::Status stored;
  while (stored.ok() && reader->Read(&chunk)) {
    last = chunk.last();
    stored = (*download)->Add(chunk);
    chunk.Clear();
  }
  if (!stored.ok()) context.TryCancel();
  grpc::Status s = reader->Finish();
  if (!stored.ok()) return stored;
  if (!s.ok() || !last) {
    return absl::UnavailableError(absl::StrCat("snapshot from ", address, ": ", s.error_message()));
  }
  if (absl::Status s = (*download)->Finish(); !s.ok()) return s;
  return (*download)->slot();
}

// A new store in `dir`: the downloaded snapshot at `slot`, governed by `membership`, and a
// hard state that promises `promised` with everything up to `slot` committed.
absl::Status BuildStore(const std::string& dir, const std::string& download, uint64_t slot,
                        const paxos::Membership& membership, const paxos::Ballot& promised) {
  if (absl::Status s = storage::RemoveTree(dir); !s.ok()) return s;
  auto store = storage::ReplicaStore::Open(dir, shard::RingPosition);
  if (!store.ok()) return store.status();
  paxos::HardState hard;
  *hard.mutable_promised() = promised;
  hard.set_commit(slot);
  storage::LogWrite write;
  write.hard_state = hard.SerializeAsString();
  if (absl::Status s = (*store)->Persist(write, /*sync=*/true); !s.ok()) return s;
  paxos::SnapshotMeta meta;
  meta.set_slot(slot);
  *meta.mutable_config()->mutable_current() = membership;
  return (*store)->InstallSnapshot(download, storage::ReplicaStore::kSnapshotMetaKey,
                                   meta.SerializeAsString());
}

// One attempt; UNAVAILABLE when the peers are not ready for it yet.
absl::Status RepairOnce(const ReplicaOptions& options) {
  std::map<uint64_t, std::string> addresses;
  absl::StatusOr<PeerSurvey> survey = Survey(options.id, AskPeers(options, &addresses));
  if (!survey.ok()) return survey.status();
  // A source that has applied every slot in any voter's log and has no membership change
  // under way (its membership then governs every slot after the snapshot's).
  const pb::StatusResponse* source = nullptr;
  for (const auto& [id, status] : survey->answers) {
    if (status.applied_slot() >= survey->slot_floor && !status.membership_pending()) {
      source = &status;
      break;
    }
  }
  if (source == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("no peer has applied slot ", survey->slot_floor, " yet"));
  }
  const std::string& address = addresses.at(source->id());  // it answered, so it is known
  const std::string download = options.data_dir + "/repair.download";
  absl::StatusOr<uint64_t> slot = Download(options, address, download);
  if (!slot.ok()) return slot.status();
  absl::StatusOr<pb::StatusResponse> after = StatusOf(address);
  if (!after.ok()) return after.status();
  const paxos::Membership membership = MembershipOf(*source, options.window);
  if (after->membership_pending() ||
      MembershipOf(*after, options.window).SerializeAsString() != membership.SerializeAsString()) {
    return absl::UnavailableError("the group's membership changed during the download");
  }
  const std::string building = options.data_dir + "/store.repair";
  absl::Status built = BuildStore(building, download, *slot, membership, survey->ballot_floor);
  storage::RemoveTree(download).IgnoreError();  // only space: BuildStore copied the files
  if (!built.ok()) return built;
  if (absl::Status s = storage::RenameSynced(building, options.data_dir + "/store"); !s.ok()) {
    return s;
  }
  PC_LOG(kInfo, "kvs.repaired")
  ("from", source->id())("slot", *slot)("slot_floor", survey->slot_floor)(
      "ballot_floor", absl::StrCat(survey->ballot_floor.round(), ".", survey->ballot_floor.node()));
  return absl::OkStatus();
}

}  // namespace

absl::Status MarkForRepair(const std::string& data_dir, const std::string& why) {
  return storage::WriteFileSynced(MarkerPath(data_dir), why + "\n");
}

bool NeedsRepair(const std::string& data_dir) { return storage::PathExists(MarkerPath(data_dir)); }

absl::Status RepairFromPeers(const ReplicaOptions& options, Clock::time_point deadline) {
  const std::string store = options.data_dir + "/store";
  if (storage::PathExists(store)) {
    const std::string aside = absl::StrCat(store, ".damaged-", UnixMs());
    if (absl::Status s = storage::RenameSynced(store, aside); !s.ok()) return s;
    PC_LOG(kWarn, "kvs.store_moved_aside")("to", aside);
  }
  storage::RemoveTree(store + ".snapshots").IgnoreError();
  absl::Status last;
  for (int attempt = 1; Clock::now() < deadline; ++attempt) {
    last = RepairOnce(options);
    if (last.ok()) {
      return storage::RemoveTree(MarkerPath(options.data_dir));
    }
    if (attempt == 1 || attempt % 25 == 0) {
      PC_LOG(kWarn, "kvs.repair_waiting")("attempt", attempt)("why", last.ToString());
    }
    std::this_thread::sleep_for(kRetryEvery);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("kvs: could not rebuild the store from the peers: ", last.message()));
}

}  // namespace penncloud::kvs::server
