#include <chrono>

#include "grpcpp/grpcpp.h"
#include "proto/etcd_kv.grpc.pb.h"
#include "stress_test/kvs_bench/target.h"

namespace penncloud::bench {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), "etcd: " + s.error_message());
}

class EtcdTarget final : public Target {
 public:
  EtcdTarget(const std::vector<std::string>& endpoints, int connections,
             std::chrono::milliseconds rpc_timeout, const EtcdTls& tls)
      : rpc_timeout_(rpc_timeout) {
    // etcd checks the client certificate against its --trusted-ca-file; we check its serving
    // certificate's SAN against the address dialled (an IP SAN for 127.0.0.1).
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        tls.enabled() ? grpc::SslCredentials({.pem_root_certs = tls.ca,
                                              .pem_private_key = tls.key,
                                              .pem_cert_chain = tls.cert})
                      : grpc::InsecureChannelCredentials();
    for (int i = 0; i < connections; ++i) {
      grpc::ChannelArguments args;
      // Without a private subchannel pool, channels to one endpoint share a connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto channel = grpc::CreateCustomChannel(endpoints[i % endpoints.size()], credentials, args);
      stubs_.push_back(etcdserverpb::KV::NewStub(channel));
    }
  }

  absl::Status Put(int client, const std::string& key, const std::string& value) override {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
    return FromGrpc(Stub(client).Put(&context, request, &response));
  }

  absl::StatusOr<std::optional<std::string>> Get(int client, const std::string& key) override {
    etcdserverpb::RangeRequest request;
    request.set_key(key);
    request.set_serializable(false);
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
    if (absl::Status s = FromGrpc(Stub(client).Range(&context, request, &response)); !s.ok()) {
      return s;
    }
    if (response.kvs_size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(response.kvs(0).value());
  }

 private:
  etcdserverpb::KV::Stub& Stub(int client) { return *stubs_[client % stubs_.size()]; }

  const std::chrono::milliseconds rpc_timeout_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
};

}  // namespace

std::unique_ptr<Target> MakeEtcdTarget(const std::vector<std::string>& endpoints, int connections,
                                       std::chrono::milliseconds rpc_timeout, const EtcdTls& tls) {
  return std::make_unique<EtcdTarget>(endpoints, connections, rpc_timeout, tls);
}

}  // namespace penncloud::bench
