#include "mail/main_common.h"

#include <csignal>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "common/metrics.h"
#include "frontend/heartbeat.h"
#include "kvs/client/connect.h"
#include "mail/line_server.h"
#include "mail/tls.h"

namespace penncloud::mail {

std::string StateDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("PENNCLOUD_STATE");
  return env != nullptr && *env != '\0' ? env : "state";
}

absl::StatusOr<Services> StartServices(const std::string& kvs_spec, const std::string& state_dir,
                                       const std::string& cert, const std::string& key,
                                       const std::string& hostname, bool tls) {
  Services s;
  auto metrics_server = metrics::StartFromFlag();
  if (!metrics_server.ok()) return metrics_server.status();
  s.metrics = std::move(*metrics_server);
  auto kvs = kvs::Connect(kvs_spec);
  if (!kvs.ok()) return kvs.status();
  s.kvs = std::move(*kvs);
  s.accounts = std::make_unique<accounts::Accounts>(s.kvs.get());
  if (tls) {
    auto ctx = ServerTlsContext(cert.empty() ? state_dir + "/tls/mail.crt" : cert,
                                key.empty() ? state_dir + "/tls/mail.key" : key, hostname);
    if (!ctx.ok()) return ctx.status();
    s.tls = std::move(*ctx);
  }
  return s;
}

namespace {

// The verbs of SMTP (RFC 5321, 3207, 4954) and POP3 (RFC 1939, 2449, 2595); anything
// else counts as "other", so a client cannot grow the label set.
bool KnownVerb(const std::string& verb) {
  static const char* const kVerbs[] = {"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT",     "RSET",
                                       "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH",
                                       "USER", "PASS", "APOP", "STAT", "LIST", "RETR",     "DELE",
                                       "TOP",  "UIDL", "CAPA", "STLS", "SASL"};
  for (const char* v : kVerbs) {
    if (verb == v) return true;
  }
  return false;
}

class ObservedProtocol final : public LineProtocol {
 public:
  struct Families {
    metrics::CounterFamily* sessions;
    metrics::GaugeFamily* open;
    metrics::CounterFamily* commands;
  };
  ObservedProtocol(std::unique_ptr<LineProtocol> inner, Families f)
      : inner_(std::move(inner)), f_(f) {
    f_.sessions->With().Inc();
    f_.open->With().Add(1);
  }
  ~ObservedProtocol() override { f_.open->With().Add(-1); }

  std::string Greeting() override { return inner_->Greeting(); }
  SessionOutput OnLine(std::string_view line, bool bare_lf) override {
    if (in_data_) {
      if (line == ".") in_data_ = false;
      return inner_->OnLine(line, bare_lf);
    }
    std::string verb = absl::AsciiStrToUpper(std::string(line.substr(0, line.find(' '))));
    SessionOutput out = inner_->OnLine(line, bare_lf);
    f_.commands->With({KnownVerb(verb) ? verb : "other"}).Inc();
    if (verb == "DATA" && out.text.starts_with("354")) in_data_ = true;
    return out;
  }
  SessionOutput OnLineTooLong() override { return inner_->OnLineTooLong(); }
  void OnTlsStarted() override { inner_->OnTlsStarted(); }
  void OnDisconnect() override { inner_->OnDisconnect(); }
  size_t MaxLineBytes() const override { return inner_->MaxLineBytes(); }
  bool Busy() const override { return inner_->Busy(); }
  std::string ShutdownNotice() const override { return inner_->ShutdownNotice(); }

 private:
  std::unique_ptr<LineProtocol> inner_;
  Families f_;
  bool in_data_ = false;
};

}  // namespace

ProtocolFactory Observed(const std::string& kind, ProtocolFactory factory) {
  ObservedProtocol::Families f{
      &metrics::Default().Counter(kind + "_sessions_total", kind + " sessions accepted"),
      &metrics::Default().Gauge(kind + "_sessions_open", kind + " sessions open now"),
      &metrics::Default().Counter(kind + "_commands_total", kind + " commands received, by verb",
                                  {"verb"})};
  return [f, factory = std::move(factory)](const std::string& peer) {
    return std::make_unique<ObservedProtocol>(factory(peer), f);
  };
}

std::function<void()> CountRefused(const std::string& kind) {
  metrics::CounterCell& refused =
      metrics::Default()
          .Counter(kind + "_connections_refused_total",
                   kind + " connections refused because --max_connections sessions were open")
          .With();
  return [&refused] { refused.Inc(); };
}

std::shared_ptr<void> StartHeartbeat(const std::string& coordinator, const std::string& kind,
                                     const std::string& address, const std::string& name,
                                     LineServer& server) {
  return StartHeartbeat(coordinator, kind, address, name,
                        [&server] { return server.connections(); });
}

std::shared_ptr<void> StartHeartbeat(const std::string& coordinator, const std::string& kind,
                                     const std::string& address, const std::string& name,
                                     std::function<size_t()> connections) {
  if (coordinator.empty()) return nullptr;
  frontend::HeartbeatOptions options;
  options.coordinator = coordinator;
  options.kind = kind;
  options.address = address;
  options.name = name;
  return std::make_shared<frontend::HeartbeatSender>(
      options, [connections = std::move(connections)] {
        coordinator::pb::Load load;
        load.set_connections(static_cast<int64_t>(connections()));
        return load;
      });
}

void BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

}  // namespace penncloud::mail
