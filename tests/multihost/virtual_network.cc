#include "tests/multihost/virtual_network.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

constexpr char kPrefix[] = "pcmh";  // every name this file makes starts with it

std::string Tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// Runs argv with its output in `out_path` (truncated first); returns the exit status.
absl::StatusOr<std::string> RunTo(const std::vector<std::string>& argv,
                                  const std::string& out_path) {
  ::unlink(out_path.c_str());
  absl::StatusOr<Process> p =
      Process::Start(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()), out_path);
  if (!p.ok()) return p.status();
  const int status = p->Wait(std::chrono::seconds(30));
  std::ifstream in(out_path);
  std::string output((std::istreambuf_iterator<char>(in)), {});
  if (status == -1) {
    p->Kill();
    return absl::DeadlineExceededError(absl::StrCat(absl::StrJoin(argv, " "), ": hung"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(argv, " "), ": exit status ", status, ": ", output));
  }
  return output;
}

// True if the process whose pid is written in `name` after `prefix` has gone.
bool OwnerGone(absl::string_view name, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&name, prefix)) return false;
  int pid = 0;
  const absl::string_view digits = name.substr(0, name.find_first_not_of("0123456789"));
  return absl::SimpleAtoi(digits, &pid) && pid > 0 && ::kill(pid, 0) == -1 && errno == ESRCH;
}

struct Prefix {
  uint32_t net;  // host order
  int length;
};

// Every IPv4 prefix the machine routes or holds an address in, default routes aside.
std::vector<Prefix> RoutedPrefixes(const std::string& text) {
  std::vector<Prefix> out;
  for (absl::string_view word : absl::StrSplit(text, absl::ByAnyChar(" \n\t"), absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(word, '/');
    in_addr a{};
    if (::inet_pton(AF_INET, parts[0].c_str(), &a) != 1) continue;
    int length = 32;
    if (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &length)) continue;
    if (length > 0 && length <= 32) out.push_back({ntohl(a.s_addr), length});
  }
  return out;
}

bool Overlaps(const Prefix& a, const Prefix& b) {
  const int length = std::min(a.length, b.length);
  const uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
  return (a.net & mask) == (b.net & mask);
}

}  // namespace

absl::Status VirtualNetwork::Available() {
  if (::geteuid() != 0) return absl::FailedPreconditionError("needs root (network namespaces)");
  if (Tool("ip").empty()) return absl::FailedPreconditionError("no `ip` (iproute2)");
  if (Tool("iptables").empty()) return absl::FailedPreconditionError("no `iptables`");
  const std::string probe = absl::StrCat(kPrefix, "-", ::getpid(), "-probe");
  const std::string out = TempDir("penncloud-netns-probe");
  absl::StatusOr<std::string> made = RunTo({Tool("ip"), "netns", "add", probe}, out + "/log");
  if (made.ok()) RunTo({Tool("ip"), "netns", "del", probe}, out + "/log").IgnoreError();
  RemoveTree(out);
  if (!made.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ip netns is unavailable: ", made.status().message()));
  }
  return absl::OkStatus();
}

VirtualNetwork::VirtualNetwork(std::string id, std::string subnet, std::string log_path)
    : id_(std::move(id)), subnet_(std::move(subnet)), log_path_(std::move(log_path)) {}

absl::Status VirtualNetwork::Run(const std::vector<std::string>& argv) {
  absl::StatusOr<std::string> out = RunTo(argv, log_path_ + ".last");
  std::ofstream(log_path_, std::ios::app)
      << "$ " << absl::StrJoin(argv, " ") << "\n"
      << (out.ok() ? *out : std::string(out.status().message())) << "\n";
  return out.status();
}

absl::StatusOr<std::unique_ptr<VirtualNetwork>> VirtualNetwork::Create(int hosts,
                                                                       std::string log_path) {
  const std::string ip = Tool("ip");
  const std::string scratch = log_path + ".query";
  // What a crashed run left: namespaces and the test's interface whose owner has gone.
  absl::StatusOr<std::string> listed = RunTo({ip, "netns", "list"}, scratch);
  if (!listed.ok()) return listed.status();
  for (absl::string_view line : absl::StrSplit(*listed, '\n', absl::SkipEmpty())) {
    const std::string name(line.substr(0, line.find(' ')));
    if (!OwnerGone(name, absl::StrCat(kPrefix, "-"))) continue;
    absl::StatusOr<std::string> pids = RunTo({ip, "netns", "pids", name}, scratch);
    for (absl::string_view p : absl::StrSplit(pids.value_or(""), '\n', absl::SkipEmpty())) {
      int pid = 0;
      if (absl::SimpleAtoi(p, &pid) && pid > 1) ::kill(pid, SIGKILL);
    }
    RunTo({ip, "netns", "del", name}, scratch).IgnoreError();
  }
  absl::StatusOr<std::string> links = RunTo({ip, "-o", "link", "show"}, scratch);
  for (absl::string_view line : absl::StrSplit(links.value_or(""), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(":@"));
    if (fields.size() < 2) continue;
    const std::string name(absl::StripAsciiWhitespace(fields[1]));
    if (OwnerGone(name, kPrefix)) RunTo({ip, "link", "del", name}, scratch).IgnoreError();
  }

  // A /24 in 10.64.0.0-10.254.255.255 that nothing here routes yet.
  absl::StatusOr<std::string> routes = RunTo({ip, "-4", "route", "show", "table", "all"}, scratch);
  absl::StatusOr<std::string> addrs = RunTo({ip, "-4", "-o", "addr", "show"}, scratch);
  if (!routes.ok() || !addrs.ok()) return routes.ok() ? addrs.status() : routes.status();
  const std::vector<Prefix> taken = RoutedPrefixes(*routes + "\n" + *addrs);
  std::mt19937 rng(std::random_device{}());
  std::string subnet;
  for (int attempt = 0; attempt < 1000 && subnet.empty(); ++attempt) {
    const uint32_t a = 64 + rng() % 191, b = rng() % 256;
    const Prefix candidate{(10u << 24) | (a << 16) | (b << 8), 24};
    bool free = true;
    for (const Prefix& t : taken) free = free && !Overlaps(t, candidate);
    if (free) subnet = absl::StrCat("10.", a, ".", b);
  }
  if (subnet.empty()) return absl::ResourceExhaustedError("no free 10.x.y.0/24");
  ::unlink(scratch.c_str());

  const std::string id = absl::StrCat(kPrefix, "-", ::getpid());
  std::unique_ptr<VirtualNetwork> net(new VirtualNetwork(id, subnet, std::move(log_path)));
  const std::string bridge_ns = id + "-net";
  const std::string own_link = absl::StrCat(kPrefix, ::getpid());
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {ip, "netns", "add", bridge_ns},
           {ip, "-n", bridge_ns, "link", "add", "br0", "type", "bridge"},
           {ip, "-n", bridge_ns, "link", "set", "br0", "up"},
           {ip, "link", "add", own_link, "type", "veth", "peer", "name", "test", "netns",
            bridge_ns},
           {ip, "-n", bridge_ns, "link", "set", "test", "master", "br0", "up"},
           {ip, "addr", "add", net->own_address() + "/24", "dev", own_link},
           {ip, "link", "set", own_link, "up"},
       }) {
    if (absl::Status s = net->Run(cmd); !s.ok()) return s;
    net->bridge_made_ = true;
  }
  for (int h = 0; h < hosts; ++h) {
    if (absl::StatusOr<int> added = net->AddHost(); !added.ok()) return added.status();
  }
  return net;
}

absl::StatusOr<int> VirtualNetwork::AddHost() {
  const int h = hosts();
  if (h >= 250) return absl::ResourceExhaustedError("at most 250 hosts");
  const std::string ip = Tool("ip");
  const std::string name = absl::StrCat("h", h + 1);
  const std::string ns = absl::StrCat(id_, "-", name);
  if (absl::Status s = Run({ip, "netns", "add", ns}); !s.ok()) return s;
  namespaces_.push_back(ns);
  const std::string bridge_ns = id_ + "-net";
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {ip, "-n", bridge_ns, "link", "add", name, "type", "veth", "peer", "name", "eth0",
            "netns", ns},
           {ip, "-n", bridge_ns, "link", "set", name, "master", "br0", "up"},
           {ip, "-n", ns, "addr", "add", address(h) + "/24", "dev", "eth0"},
           {ip, "-n", ns, "link", "set", "eth0", "up"},
           {ip, "-n", ns, "link", "set", "lo", "up"},
       }) {
    if (absl::Status s = Run(cmd); !s.ok()) return s;
  }
  return h;
}

VirtualNetwork::~VirtualNetwork() {
  const std::string ip = Tool("ip");
  std::vector<std::string> all = namespaces_;
  if (bridge_made_) all.push_back(id_ + "-net");
  for (const std::string& ns : all) {
    absl::StatusOr<std::string> pids = RunTo({ip, "netns", "pids", ns}, log_path_ + ".last");
    for (absl::string_view p : absl::StrSplit(pids.value_or(""), '\n', absl::SkipEmpty())) {
      int pid = 0;
      if (absl::SimpleAtoi(p, &pid) && pid > 1) ::kill(pid, SIGKILL);
    }
    Run({ip, "netns", "del", ns}).IgnoreError();
  }
  // Gone with its peer in the bridge's namespace; this only covers a half-made network.
  if (bridge_made_)
    RunTo({ip, "link", "del", absl::StrCat(kPrefix, ::getpid())}, "/dev/null").IgnoreError();
}

std::string VirtualNetwork::address(int h) const { return absl::StrCat(subnet_, ".", h + 1); }

std::string VirtualNetwork::own_address() const { return subnet_ + ".254"; }

std::vector<std::string> VirtualNetwork::Exec(int h) const {
  return {Tool("ip"), "netns", "exec", namespaces_.at(h)};
}

absl::Status VirtualNetwork::CutOff(int h, Cut how) {
  std::vector<std::string> iptables = Exec(h);
  iptables.insert(iptables.end(), {Tool("iptables"), "-w"});
  auto rule = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = iptables;
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  if (how == Cut::kBoth) {
    if (absl::Status s = rule({"-A", "INPUT", "-i", "eth0", "-j", "DROP"}); !s.ok()) return s;
  }
  return rule({"-A", "OUTPUT", "-o", "eth0", "-j", "DROP"});
}

absl::Status VirtualNetwork::Heal(int h) {
  std::vector<std::string> argv = Exec(h);
  argv.insert(argv.end(), {Tool("iptables"), "-w", "-F"});
  return Run(argv);
}

absl::Status VirtualNetwork::Detour(int from, int to, int port, int via_port) {
  std::vector<std::string> argv = Exec(from);
  argv.insert(argv.end(), {Tool("iptables"), "-w", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d",
                           address(to), "--dport", std::to_string(port), "-j", "DNAT",
                           "--to-destination", absl::StrCat(own_address(), ":", via_port)});
  return Run(argv);
}

}  // namespace penncloud::testing
