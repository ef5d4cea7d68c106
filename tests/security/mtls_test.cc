// Zero trust inside the cluster (docs/security.md), tried as an attacker would with a plain
// gRPC client against real processes: no certificate, a self-signed one, one from another
// CA, and a stolen service certificate calling what only peers, operators or the
// coordinator may. Every call is refused, nothing is applied or persisted, refusals show in
// /metrics; a removed replica is refused by the others although its certificate is still
// valid; and certificates and the CA are rotated while a writer runs, with no failed write.
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "common/tls_versions.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/lincheck/history.h"
#include "kvs/shard/node_membership.h"
#include "proto/coordinator.grpc.pb.h"
#include "proto/kvs.grpc.pb.h"
#include "proto/paxos.pb.h"
#include "tests/kvs/history_recorder.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"
#include "tests/web/http_client.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tls::Identity;

constexpr uint64_t kHugeRound = uint64_t{1} << 60;

std::vector<std::string> Addresses(const KvsGroup& group) {
  std::vector<std::string> out;
  for (int i = 0; i < group.size(); ++i) out.push_back(group.address(i));
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A Paxos message of `type` from replica `from` to `to`, in `round`.
paxos::Message PeerMessage(paxos::MessageType type, uint64_t from, uint64_t to, uint64_t round) {
  paxos::Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_from_slot(1);
  m.mutable_ballot()->set_round(round);
  m.mutable_ballot()->set_node(from);
  return m;
}

// The TLS version a handshake with 127.0.0.1:`port` settles on, offering only versions
// `min`..`max` and presenting `files`; 0 if the server refuses it.
int HandshakeVersion(int port, const tls::Files& files, int min, int max) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  tls::AllowTls12(ctx);  // this process's own settings must not decide the outcome
  SSL_CTX_set_min_proto_version(ctx, min);
  SSL_CTX_set_max_proto_version(ctx, max);
  SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str());
  SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM);
  int version = 0;
  if (int fd = ConnectLoopback(port, seconds(5)); fd >= 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    // gRPC speaks HTTP/2 over TLS and refuses a handshake without ALPN "h2".
    static const unsigned char kAlpn[] = {2, 'h', '2'};
    SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
    if (SSL_connect(ssl) == 1) version = SSL_version(ssl);
    SSL_free(ssl);
    close(fd);
  }
  SSL_CTX_free(ctx);
  return version;
}

// Sends `m` alone in a batch from its sender, as a peer's transport would.
grpc::Status SendPeerMessage(kvs::pb::KvsPeer::Stub& peer, const paxos::Message& m) {
  kvs::pb::PeerBatch batch;
  batch.set_from(m.from());
  batch.add_messages(m.SerializeAsString());
  kvs::pb::PeerAck ack;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(3));
  return peer.Send(&context, batch, &ack);
}

// Every internal RPC of a replica, each made once with `credentials`; returns the status
// of each by name.
std::map<std::string, grpc::Status> CallEverything(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    uint64_t target_id) {
  std::map<std::string, grpc::Status> out;
  auto channel = grpc::CreateChannel(address, credentials);
  auto kvs = kvs::pb::KvsService::NewStub(channel);
  auto peer = kvs::pb::KvsPeer::NewStub(channel);
  auto deadline = [](grpc::ClientContext& c) {
    c.set_deadline(std::chrono::system_clock::now() + seconds(3));
  };
  {
    kvs::pb::WriteRequest request;  // make oneself an admin
    kvs::pb::Command* c = request.mutable_command();
    c->set_op(kvs::pb::OP_PUT);
    c->set_row("acct/mallory");
    c->set_column("admin");
    c->set_value("1");
    c->set_session(77);
    c->set_seq(1);
    kvs::pb::WriteResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["Write"] = kvs->Write(&context, request, &response);
  }
  {
    kvs::pb::WriteRequest request;  // redraw the ring
    kvs::pb::Command* c = request.mutable_command();
    c->set_op(kvs::pb::OP_PUT);
    c->set_row("cluster");
    c->set_column("map");
    c->set_value("forged");
    c->set_session(77);
    c->set_seq(2);
    kvs::pb::WriteResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["WriteClusterRow"] = kvs->Write(&context, request, &response);
  }
  {
    kvs::pb::GetRequest request;  // read a password hash
    request.set_row("acct/alice");
    request.set_column("password");
    kvs::pb::GetResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["Get"] = kvs->Get(&context, request, &response);
  }
  {
    kvs::pb::InstallMapRequest request;
    request.set_map("not even a map");
    kvs::pb::WriteResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["InstallMap"] = kvs->InstallMap(&context, request, &response);
  }
  {
    kvs::pb::ChangeMembershipRequest request;
    request.set_change(kvs::pb::MEMBERSHIP_REMOVE);
    request.mutable_member()->set_id(target_id);
    kvs::pb::ChangeMembershipResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["ChangeMembership"] = kvs->ChangeMembership(&context, request, &response);
  }
  {
    kvs::pb::ListRowsRequest request;
    request.set_limit(10);
    kvs::pb::ListRowsResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["ListRows"] = kvs->ListRows(&context, request, &response);
  }
  {
    kvs::pb::MigrateRequest request;
    request.mutable_step()->set_kind(kvs::pb::MIGRATE_FREEZE);
    request.mutable_step()->mutable_migration()->set_id(9);
    kvs::pb::WriteResponse response;
    grpc::ClientContext context;
    deadline(context);
    out["Migrate"] = kvs->Migrate(&context, request, &response);
  }
  {
    // An ACCEPT with a huge ballot: promised and persisted, it would keep every real
    // replica from leading again.
    out["Send"] = SendPeerMessage(
        *peer, PeerMessage(paxos::MSG_ACCEPT, target_id == 1 ? 2 : 1, target_id, kHugeRound));
  }
  {
    kvs::pb::SnapshotRequest request;  // the whole store
    request.set_from(target_id == 1 ? 2 : 1);
    grpc::ClientContext context;
    deadline(context);
    auto reader = peer->FetchSnapshot(&context, request);
    kvs::pb::SnapshotChunk chunk;
    int chunks = 0;
    while (reader->Read(&chunk)) ++chunks;
    out["FetchSnapshot"] = reader->Finish();
    if (chunks > 0) out["FetchSnapshot"] = grpc::Status::OK;
  }
  {
    kvs::pb::FetchRangeRequest request;
    request.mutable_migration()->set_id(9);
    grpc::ClientContext context;
    deadline(context);
    auto reader = peer->FetchRange(&context, request);
    kvs::pb::RangeChunk chunk;
    while (reader->Read(&chunk)) {
    }
    out["FetchRange"] = reader->Finish();
  }
  return out;
}

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KvsGroupOptions options;
    options.serve_metrics = true;
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = std::move(*group);
    auto leader = group_->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    leader_ = *leader;
    kvs::ReplicaGroupClient admin(Addresses(*group_));
    ASSERT_TRUE(admin.Put("acct/alice", "password", "$argon2id$secret").ok());
  }

  // Nothing the calls asked for happened: no admin bit, no forged map, no huge promise,
  // and the group still elects and serves.
  void ExpectNothingApplied() {
    kvs::ReplicaGroupClient admin(Addresses(*group_));
    EXPECT_TRUE(absl::IsNotFound(admin.Get("acct/mallory", "admin").status()));
    EXPECT_TRUE(absl::IsNotFound(admin.Get("cluster", "map").status()));
    for (int i = 0; i < group_->size(); ++i) {
      auto stub = kvs::pb::KvsService::NewStub(
          grpc::CreateChannel(group_->address(i), tls::ChannelCredentials()));
      kvs::pb::StatusRequest request;
      kvs::pb::StatusResponse response;
      grpc::ClientContext context;
      ASSERT_TRUE(stub->Status(&context, request, &response).ok());
      // "round.node": an honest cluster this young is in its first few rounds.
      uint64_t round = 0;
      ASSERT_TRUE(
          absl::SimpleAtoi(response.ballot().substr(0, response.ballot().find('.')), &round))
          << response.ballot();
      EXPECT_LT(round, 1000u) << "replica " << i + 1 << " promised ballot " << response.ballot();
    }
    // A new leader can still be elected: the old one crashes.
    group_->Kill(leader_);
    kvs::ReplicaGroupOptions patient;
    patient.deadline = seconds(15);
    kvs::ReplicaGroupClient after(Addresses(*group_), patient);
    EXPECT_TRUE(after.Put("r", "c", "still serving").ok());
    EXPECT_EQ(after.Get("r", "c").value_or(""), "still serving");
  }

  std::unique_ptr<KvsGroup> group_;
  int leader_ = 0;
};

TEST_F(MtlsTest, StrangersWithoutAClusterCertificateGetNothing) {
  TestPki& pki = TestPki::Shared();
  auto other = TestPki::Create(TempDir("other-ca"));
  ASSERT_TRUE(other.ok()) << other.status();
  auto foreign = other->Issue(Identity::Admin("mallory"));
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  auto self_signed = pki.SelfSigned(Identity::Admin("mallory"));
  ASSERT_TRUE(self_signed.ok()) << self_signed.status();
  // The strangers trust our CA for the server's certificate; what they present is theirs.
  const std::map<std::string, std::shared_ptr<grpc::ChannelCredentials>> strangers = {
      {"plaintext", grpc::InsecureChannelCredentials()},
      {"self-signed",
       tls::MakeChannelCredentials(
           {.ca = pki.ca_file(), .cert = self_signed->cert, .key = self_signed->key})},
      {"another CA", tls::MakeChannelCredentials(
                         {.ca = pki.ca_file(), .cert = foreign->cert, .key = foreign->key})},
  };
  for (const auto& [who, credentials] : strangers) {
    for (const auto& [rpc, status] :
         CallEverything(group_->address(leader_), credentials, leader_ + 1)) {
      EXPECT_FALSE(status.ok()) << who << " " << rpc;
    }
  }
  ExpectNothingApplied();
}

TEST_F(MtlsTest, InternalPortsSpeakOnlyTls13) {
  auto admin = TestPki::Shared().Issue(Identity::Admin("tls-versions"));
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string& address = group_->address(leader_);
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
  EXPECT_EQ(HandshakeVersion(port, *admin, TLS1_2_VERSION, TLS1_2_VERSION), 0)
      << "a TLS 1.2-only client completed a handshake with " << address;
  EXPECT_EQ(HandshakeVersion(port, *admin, TLS1_2_VERSION, TLS1_3_VERSION), TLS1_3_VERSION);
}

TEST_F(MtlsTest, AServiceCertificateReachesDataButNotPeersOperatorsOrTheMap) {
  auto files = TestPki::Shared().Issue(Identity::Service("frontend", "frontend-stolen"));
  ASSERT_TRUE(files.ok()) << files.status();
  std::map<std::string, grpc::Status> got =
      CallEverything(group_->address(leader_), tls::MakeChannelCredentials(*files), leader_ + 1);
  for (const char* rpc : {"WriteClusterRow", "InstallMap", "ChangeMembership", "ListRows",
                          "Migrate", "Send", "FetchSnapshot", "FetchRange"}) {
    EXPECT_EQ(got[rpc].error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << rpc << ": " << got[rpc].error_message();
  }
  // What a frontend does every day still works: that is what the certificate is for.
  EXPECT_TRUE(got["Get"].ok()) << got["Get"].error_message();
  EXPECT_TRUE(got["Write"].ok()) << got["Write"].error_message();
  kvs::ReplicaGroupClient admin(Addresses(*group_));
  ASSERT_TRUE(admin.Delete("acct/mallory", "admin").ok());

  // The refusals are counted on the replica's /metrics.
  HttpClient metrics(group_->metrics_port(leader_));
  auto page = metrics.Send("GET", "/metrics");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(absl::StrContains(
      page->body, "penncloud_grpc_refused_total{rpc=\"Send\",code=\"permission_denied\"} 1"))
      << page->body.substr(0, 2000);
  ExpectNothingApplied();
}

TEST_F(MtlsTest, APeerMaySpeakOnlyAsItselfAndOnlyInItsOwnGroup) {
  const uint64_t target = leader_ + 1;
  const uint64_t other = target == 1 ? 2 : 1;
  // Another group's replica, and a replica of this group claiming to be a third one.
  auto foreign = TestPki::Shared().Issue(Identity::Replica(5, other));
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  const uint64_t third = 6 - target - other;  // ids are 1, 2, 3
  auto impostor = TestPki::Shared().Issue(Identity::Replica(0, third));
  ASSERT_TRUE(impostor.ok()) << impostor.status();
  for (const auto& files : {*foreign, *impostor}) {
    std::map<std::string, grpc::Status> got =
        CallEverything(group_->address(leader_), tls::MakeChannelCredentials(files), target);
    EXPECT_EQ(got["Send"].error_code(), grpc::StatusCode::PERMISSION_DENIED) << files.cert;
    EXPECT_EQ(got["FetchSnapshot"].error_code(), grpc::StatusCode::PERMISSION_DENIED) << files.cert;
  }
  ExpectNothingApplied();
}

TEST_F(MtlsTest, AMemberSendingAnAbsurdBallotIsDroppedByTheCoreAndCounted) {
  // A stolen replica certificate passes the RPC checks for its own id; the core still
  // refuses a ballot no honest replica can hold, before it promises or persists anything.
  const uint64_t target = leader_ + 1;
  const uint64_t sender = target == 1 ? 2 : 1;
  auto files = TestPki::Shared().Issue(Identity::Replica(0, sender));
  ASSERT_TRUE(files.ok()) << files.status();
  auto peer = kvs::pb::KvsPeer::NewStub(
      grpc::CreateChannel(group_->address(leader_), tls::MakeChannelCredentials(*files)));
  EXPECT_TRUE(
      SendPeerMessage(*peer, PeerMessage(paxos::MSG_PREPARE, sender, target, uint64_t{1} << 63))
          .ok());
  HttpClient metrics(group_->metrics_port(leader_));
  std::string body;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto page = metrics.Send("GET", "/metrics");
    ASSERT_TRUE(page.ok()) << page.status();
    body = page->body;
    if (absl::StrContains(body, "kvs_paxos_dropped_messages_total{reason=\"bad_ballot\"} 1")) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(absl::StrContains(body, "kvs_paxos_dropped_messages_total{reason=\"bad_ballot\"} 1"))
      << body.substr(0, 3000);
  ExpectNothingApplied();
}

TEST(MtlsMembershipTest, ARemovedReplicaIsRefusedAndANewOneWithItsOwnCertificateJoins) {
  auto started = KvsGroup::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  KvsGroup& group = **started;
  kvs::shard::GroupTarget target;
  target.addresses = Addresses(group);
  kvs::ReplicaGroupClient writer(Addresses(group));
  ASSERT_TRUE(writer.Put("before", "c", "v").ok());

  // Replica 4 joins with a certificate issued for it (StartJoining's launch gets one).
  auto joined = group.StartJoining();
  ASSERT_TRUE(joined.ok()) << joined.status();
  kvs::shard::NewReplica replica{.id = 4, .address = group.address(*joined), .peer_address = ""};
  kvs::shard::NodeChangeOptions options;
  options.timeout = seconds(60);
  absl::Status added = kvs::shard::AddReplica(target, replica, options);
  ASSERT_TRUE(added.ok()) << added;
  target.addresses = Addresses(group);

  // Replica 1 leaves, keeping its still-valid certificate.
  absl::Status removed_ok = kvs::shard::RemoveReplica(target, 1, options);
  ASSERT_TRUE(removed_ok.ok()) << removed_ok;
  group.Kill(0);
  auto removed = TestPki::Shared().Issue(Identity::Replica(0, 1));
  ASSERT_TRUE(removed.ok());
  bool refused_somewhere = false;
  for (int i = 1; i < group.size(); ++i) {
    auto peer = kvs::pb::KvsPeer::NewStub(
        grpc::CreateChannel(group.address(i), tls::MakeChannelCredentials(*removed)));
    // A member learns of the removal when it applies it; give the last one a moment.
    grpc::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {
      s = SendPeerMessage(*peer, PeerMessage(paxos::MSG_PREPARE, 1, i + 1, kHugeRound));
      if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << "replica " << i + 1 << ": " << s.error_message();
    refused_somewhere |= absl::StrContains(s.error_message(), "was removed");
  }
  EXPECT_TRUE(refused_somewhere);
  kvs::ReplicaGroupOptions patient;
  patient.deadline = seconds(15);
  kvs::ReplicaGroupClient after(Addresses(group), patient);
  EXPECT_TRUE(after.Put("after", "c", "v").ok());
  EXPECT_EQ(after.Get("before", "c").value_or(""), "v");
}

TEST(MtlsCoordinatorTest, AStolenServiceCertificateCannotRegisterAFrontend) {
  const std::string dir = TempDir("mtls-coordinator");
  const int http = FreePort(), grpc_port = FreePort();
  auto coordinator = Process::Start(BinaryPath("coordinator"),
                                    {"--address=127.0.0.1", absl::StrCat("--http_port=", http),
                                     absl::StrCat("--grpc_port=", grpc_port), "--kvs=memory",
                                     "--heartbeat_ms=100", "--down_after_ms=1000"},
                                    dir + "/coordinator.log");
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  ASSERT_TRUE(WaitForPort(grpc_port));
  const std::string address = absl::StrCat("127.0.0.1:", grpc_port);
  auto beat = [&](const tls::Files& files, const std::string& kind, const std::string& name,
                  const std::string& at) {
    auto stub = coordinator::pb::Coordinator::NewStub(
        grpc::CreateChannel(address, tls::MakeChannelCredentials(files)));
    coordinator::pb::HeartbeatRequest request;
    request.set_kind(kind);
    request.set_name(name);
    request.set_address(at);
    request.mutable_load()->set_in_flight(-1000);  // "send me everything"
    coordinator::pb::HeartbeatResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(3));
    return stub->Heartbeat(&context, request, &response);
  };
  TestPki& pki = TestPki::Shared();
  auto smtp = pki.Issue(Identity::Service("smtp", "smtp"));
  auto frontend = pki.Issue(Identity::Service("frontend", "frontend-1"));
  auto replica = pki.Issue(Identity::Replica(1, 1));
  ASSERT_TRUE(smtp.ok() && frontend.ok() && replica.ok());
  EXPECT_EQ(beat(*smtp, "frontend", "smtp", "127.0.0.1:9").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(beat(*smtp, "frontend", "frontend-1", "127.0.0.1:9").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(beat(*replica, "frontend", "kvs-g1-1", "127.0.0.1:9").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The right kind and name, but an address the certificate does not name.
  EXPECT_EQ(beat(*frontend, "frontend", "frontend-1", "10.9.8.7:80").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto self_signed = pki.SelfSigned(Identity::Service("frontend", "frontend-1"));
  ASSERT_TRUE(self_signed.ok());
  EXPECT_FALSE(beat({.ca = pki.ca_file(), .cert = self_signed->cert, .key = self_signed->key},
                    "frontend", "frontend-1", "127.0.0.1:9")
                   .ok());
  {
    auto stub = coordinator::pb::Coordinator::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    coordinator::pb::HeartbeatRequest request;
    request.set_kind("frontend");
    request.set_address("127.0.0.1:9");
    coordinator::pb::HeartbeatResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(3));
    EXPECT_FALSE(stub->Heartbeat(&context, request, &response).ok());
  }
  // Nothing registered; the real frontend's own certificate does register.
  auto stub = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(address, tls::ChannelCredentials()));  // the test's admin identity
  auto nodes = [&] {
    coordinator::pb::ListNodesRequest request;
    coordinator::pb::ListNodesResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub->ListNodes(&context, request, &response).ok());
    return response.nodes_size();
  };
  EXPECT_EQ(nodes(), 0);
  EXPECT_TRUE(beat(*frontend, "frontend", "frontend-1", "127.0.0.1:9").ok());
  EXPECT_EQ(nodes(), 1);
  // A service may not read the node table either.
  auto as_service = coordinator::pb::Coordinator::NewStub(
      grpc::CreateChannel(address, tls::MakeChannelCredentials(*smtp)));
  coordinator::pb::ListNodesRequest request;
  coordinator::pb::ListNodesResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(as_service->ListNodes(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // No certificate material ever reaches the log.
  const std::string log = ReadFile(dir + "/coordinator.log");
  EXPECT_FALSE(absl::StrContains(log, "BEGIN")) << log;
  RemoveTree(dir);
}

// Replaces the files at `to` with those at `from`, key first, each by rename: a reader sees
// an old or a new file, never half of one.
void Install(const tls::Files& from, const tls::Files& to) {
  for (const auto& [source, target] : {std::pair{from.key, to.key}, {from.cert, to.cert}}) {
    std::filesystem::copy_file(source, target + ".new",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(target + ".new", target);
  }
}

TEST(MtlsRotationTest, CertificatesAndTheCaRollWhileAWriterRuns) {
  TestPki& pki = TestPki::Shared();  // reloaded every second by this process too
  KvsGroupOptions options;
  options.extra_flags = {"--tls_reload_s=1"};
  auto started = KvsGroup::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  KvsGroup& group = **started;
  kvs::ReplicaGroupOptions patient;
  patient.deadline = seconds(20);
  kvs::ReplicaGroupClient client(Addresses(group), patient);
  HistoryRecorder recorder(&client, 3, 4);
  recorder.Start();
  std::this_thread::sleep_for(seconds(1));

  // Every identity in play: the three replicas and this test process.
  // Every certificate in play, by the name of its files: the three replicas (named as
  // their processes are) and this test process.
  const std::vector<std::pair<Identity, std::string>> identities = {
      {Identity::Replica(0, 1), "kvs-1"},
      {Identity::Replica(0, 2), "kvs-2"},
      {Identity::Replica(0, 3), "kvs-3"},
      {Identity::Admin("test"), "admin-test"}};
  auto old_admin = pki.Issue(Identity::Admin("old"));  // signed by the CA being retired
  ASSERT_TRUE(old_admin.ok());
  auto next = TestPki::Create(TempDir("next-ca"));
  ASSERT_TRUE(next.ok()) << next.status();
  const std::string old_ca = ReadFile(pki.ca_file());
  const std::string new_ca = ReadFile(next->ca_file());
  auto write_bundle = [&](const std::string& text) {
    std::ofstream(pki.ca_file() + ".new") << text;
    std::filesystem::rename(pki.ca_file() + ".new", pki.ca_file());
  };

  // 1. Everyone trusts both CAs.
  write_bundle(old_ca + new_ca);
  std::this_thread::sleep_for(milliseconds(2500));
  // 2. Every certificate is reissued by the new CA (first one replica's alone, then all).
  for (const auto& [identity, name] : identities) {
    auto fresh = next->Issue(identity);
    ASSERT_TRUE(fresh.ok());
    Install(*fresh, pki.FilesOf(name));
    std::this_thread::sleep_for(milliseconds(500));
  }
  std::this_thread::sleep_for(milliseconds(2500));
  // 3. The old CA is dropped. New connections now need new certificates on both ends:
  // a restarted replica makes them.
  write_bundle(new_ca);
  std::this_thread::sleep_for(milliseconds(2500));
  const int follower = (group.Leader().value_or(0) + 1) % group.size();
  ASSERT_TRUE(group.Restart(follower).ok());
  std::this_thread::sleep_for(seconds(2));
  kvs::ReplicaGroupClient fresh_client(Addresses(group), patient);
  EXPECT_TRUE(fresh_client.Put("rotated", "c", "v").ok());

  std::vector<lincheck::Operation> history = recorder.FinishWithFinalReads();
  EXPECT_TRUE(recorder.final_reads_ok());
  EXPECT_EQ(recorder.failed_ops(), 0);
  EXPECT_GT(recorder.acknowledged_writes(), 20);
  lincheck::CheckResult result = lincheck::CheckKv(history, seconds(60));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;

  // A certificate of the retired CA is now refused.
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel(group.address(follower), tls::MakeChannelCredentials(*old_admin)));
  kvs::pb::StatusRequest request;
  kvs::pb::StatusResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(3));
  EXPECT_FALSE(stub->Status(&context, request, &response).ok());
}

}  // namespace
}  // namespace penncloud::testing
