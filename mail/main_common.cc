#include "mail/main_common.h"

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "absl/strings/ascii.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/node_name.h"
#include "common/stop_signal.h"
#include "heartbeat/sender.h"
#include "kvs/client/connect.h"
#include "mail/line_server.h"
#include "mail/tls.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "address to listen on");
ABSL_FLAG(std::string, kvs, "config=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
          "the key-value store (see kvs/client/connect.h)");
ABSL_FLAG(std::string, domain, "penncloud.local", "local mail domain");
ABSL_FLAG(std::string, hostname, "penncloud.local", "our host name in banners and headers");
ABSL_FLAG(std::string, state_dir, "", "state folder (default $PENNCLOUD_STATE or ./state)");
ABSL_FLAG(bool, tls, true, "offer STARTTLS (POP3: STLS) and serve the implicit-TLS port");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (default <state>/tls/mail.crt)");
ABSL_FLAG(std::string, tls_key, "", "PEM key (default <state>/tls/mail.key)");
ABSL_FLAG(int, max_connections, 256, "concurrent connections (per port)");
ABSL_FLAG(int, login_attempts_per_minute, 30,
          "logins one client address may attempt per minute (0 = no cap)");
ABSL_FLAG(std::string, coordinator, "",
          "coordinator gRPC addresses (host:port), comma-separated: heartbeats go to each "
          "(\"\" = none)");

namespace penncloud::mail {

namespace {

// --state_dir, else $PENNCLOUD_STATE, else "state".
std::string StateDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("PENNCLOUD_STATE");
  return env != nullptr && *env != '\0' ? env : "state";
}

void WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

}  // namespace

void MailProcess::Fail(const std::string& why, int code) const {
  std::cerr << kind << ": " << why << "\n";
  std::exit(code);
}

MailProcess StartMailProcess(int argc, char** argv, const std::string& kind,
                             const std::string& usage,
                             const absl::Flag<int>& max_connections_per_address) {
  config::ParseFlags(argc, argv, kind, usage);
  MailProcess p;
  p.kind = kind;
  p.node = InitNodeName(kind);
  BlockStopSignals();  // before any thread starts: the TLS file watcher is one
  if (absl::Status s = tls::InitProcess(p.node, tls::Identity::Service(kind, p.node)); !s.ok()) {
    p.Fail(std::string(s.message()), 2);
  }
  p.address = absl::GetFlag(FLAGS_address);
  p.domain = absl::GetFlag(FLAGS_domain);
  p.hostname = absl::GetFlag(FLAGS_hostname);
  p.coordinator = absl::GetFlag(FLAGS_coordinator);
  p.max_connections = absl::GetFlag(FLAGS_max_connections);
  p.state_dir = StateDir(absl::GetFlag(FLAGS_state_dir));
  auto metrics_server = metrics::StartFromFlag();
  if (!metrics_server.ok()) p.Fail(metrics_server.status().ToString());
  p.metrics = std::move(*metrics_server);
  auto kvs = kvs::Connect(absl::GetFlag(FLAGS_kvs));
  if (!kvs.ok()) p.Fail(kvs.status().ToString());
  p.kvs = std::move(*kvs);
  p.accounts = std::make_unique<accounts::Accounts>(p.kvs.get());
  if (absl::GetFlag(FLAGS_tls)) {
    std::string cert = absl::GetFlag(FLAGS_tls_cert), key = absl::GetFlag(FLAGS_tls_key);
    auto ctx = ServerTlsContext(cert.empty() ? p.state_dir + "/tls/mail.crt" : cert,
                                key.empty() ? p.state_dir + "/tls/mail.key" : key, p.hostname);
    if (!ctx.ok()) p.Fail(ctx.status().ToString());
    p.tls = std::move(*ctx);
  }
  p.limits = std::make_unique<AddressLimits>(AddressLimits::Options{
      .max_connections = absl::GetFlag(max_connections_per_address),
      .login_attempts_per_minute = absl::GetFlag(FLAGS_login_attempts_per_minute)});
  return p;
}

void ServeUntilStopped(const MailProcess& process, int port, int implicit_port,
                       std::function<size_t()> connections, std::function<void()> stop) {
  std::shared_ptr<void> beats;
  if (!process.coordinator.empty()) {
    heartbeat::HeartbeatOptions options;
    options.coordinators = heartbeat::ParseCoordinatorList(process.coordinator);
    options.kind = process.kind;
    options.address = process.address + ":" + std::to_string(port);
    options.name = process.node;
    beats = std::make_shared<heartbeat::HeartbeatSender>(
        options, [connections = std::move(connections)] {
          coordinator::pb::Load load;
          load.set_connections(static_cast<int64_t>(connections()));
          return load;
        });
  }
  PC_LOG(kInfo, process.kind + ".listening")
  ("port", port)("implicit_tls_port", implicit_port)("tls", process.tls != nullptr);
  WaitForStopSignal();
  PC_LOG(kInfo, process.kind + ".stopping");
  stop();
  // /metrics last, so that the stop above can be watched there; a scrape takes
  // milliseconds, and the sessions' own bounds are spent by now.
  if (process.metrics)
    process.metrics->Drain(std::chrono::steady_clock::now() + std::chrono::seconds(1));
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

}  // namespace penncloud::mail
