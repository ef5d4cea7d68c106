#include "common/grpc_metrics.h"

#include <chrono>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace penncloud::metrics {
namespace {

namespace gx = grpc::experimental;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

// "/penncloud.kvs.pb.KvsService/Write" -> "KvsService/Write": short, and still tells the
// client service from the peer service.
std::string ShortMethod(const char* full) {
  std::string m = full != nullptr ? full : "?";
  size_t slash = m.rfind('/');
  if (slash == std::string::npos || slash == 0) return m;
  size_t start = m.rfind('.', slash);
  start = start == std::string::npos ? 1 : start + 1;
  return m.substr(start);
}

struct Families {
  CounterFamily& handled =
      Default().Counter("grpc_server_handled_total",
                        "gRPC calls completed, by method and status code", {"method", "code"});
  HistogramFamily& latency =
      Default().Histogram("grpc_server_handling_seconds",
                          "gRPC call latency (receipt to status sent), by method", {"method"});
};

Families& GetFamilies() {
  static Families* f = new Families();
  return *f;
}

class RpcInterceptor final : public gx::Interceptor {
 public:
  RpcInterceptor(gx::ServerRpcInfo* info, int slow_ms)
      : method_(ShortMethod(info->method())),
        // The request of these is read before the handler runs; of the others, the handler
        // reads each message itself.
        request_first_(info->type() == gx::ServerRpcInfo::Type::UNARY ||
                       info->type() == gx::ServerRpcInfo::Type::SERVER_STREAMING),
        slow_ms_(slow_ms),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            gx::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md != nullptr) {
        auto it = md->find(kRequestIdMetadata);
        if (it != md->end()) request_id_.assign(it->second.data(), it->second.size());
      }
    }
    if (request_first_ && !message_seen_ &&
        methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::POST_RECV_MESSAGE)) {
      message_seen_ = true;
      request_unread_ = methods->GetRecvMessage() == nullptr;
    }
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void Finish(const grpc::Status& status) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    Families& f = GetFamilies();
    if (request_unread_) {
      // The request never arrived (the caller cancelled or ran out of time while it was on
      // its way) or could not be parsed; the handler never ran. gRPC's callback handler
      // answers UNIMPLEMENTED then, which a caller that has gone never sees: counted and
      // logged as what happened, not as a method this server lacks (docs/kvs.md).
      f.handled.With({method_, "REQUEST_UNREAD"}).Inc();
      PC_LOG(kWarn, "rpc.request_unread")
      ("method", method_)("ms", static_cast<int64_t>(secs * 1000))(
          "req", request_id_.empty() ? "-" : request_id_)("answered",
                                                          CodeName(status.error_code()));
      return;
    }
    const char* code = CodeName(status.error_code());
    f.handled.With({method_, code}).Inc();
    f.latency.With({method_}).Observe(secs);
    bool slow = secs * 1000 >= slow_ms_;
    if (!status.ok() || slow) {
      // The id goes in the line's own field: this thread serves many requests.
      PC_LOG(kWarn, status.ok() ? "rpc.slow" : "rpc.failed")
      ("method", method_)("code", code)("ms", static_cast<int64_t>(secs * 1000))(
          "req", request_id_.empty() ? "-" : request_id_)("error", status.error_message());
    }
  }

  const std::string method_;
  const bool request_first_;
  bool message_seen_ = false;
  bool request_unread_ = false;
  const int slow_ms_;
  const std::chrono::steady_clock::time_point start_;
  std::string request_id_;
};

class Factory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(GrpcServerMetricsOptions options) : options_(options) {}
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    return new RpcInterceptor(info, options_.slow_ms);
  }

 private:
  const GrpcServerMetricsOptions options_;
};

GrpcServerMetricsOptions g_everywhere;  // set once, before any server is built

class Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "penncloud_metrics"; }
  void UpdateServerBuilder(grpc::ServerBuilder* builder) override {
    InstallGrpcServerMetrics(*builder, g_everywhere);
  }
  void InitServer(grpc::ServerInitializer*) override {}
  void Finish(grpc::ServerInitializer*) override {}
  void ChangeArguments(const std::string&, void*) override {}
};

}  // namespace

void InstallGrpcServerMetricsEverywhere(GrpcServerMetricsOptions options) {
  g_everywhere = options;
  grpc::ServerBuilder::InternalAddPluginFactory(
      [] { return std::unique_ptr<grpc::ServerBuilderPlugin>(new Plugin()); });
}

void InstallGrpcServerMetrics(grpc::ServerBuilder& builder, GrpcServerMetricsOptions options) {
  std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<Factory>(options));
  builder.experimental().SetInterceptorCreators(std::move(creators));
}

}  // namespace penncloud::metrics
