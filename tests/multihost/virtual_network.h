// Emulated hosts for whole-system tests: one network namespace per host, each with an
// `eth0` joined by a veth pair to a bridge that lives in a namespace of its own, on a
// private /24 chosen so that it collides with nothing the machine routes. The test process
// itself gets one more veth into the bridge (address .254), so it can watch the cluster the
// way an operator's workstation on the same network would.
//
// Names carry the test's pid (namespaces `pcmh-<pid>-net`, `pcmh-<pid>-h1`, ...; the test's
// interface `pcmh<pid>`), so concurrent runs never meet; Create removes what a crashed run
// left behind, and the destructor removes everything, processes inside included. Faults are
// iptables rules inside a host's namespace only: the machine's own rules are never touched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace penncloud::testing {

class VirtualNetwork {
 public:
  // OK when this process may build one (root, `ip` and `iptables` installed, `ip netns add`
  // works); otherwise the reason, for GTEST_SKIP.
  static absl::Status Available();

  // `hosts` hosts, commands and their output logged to `log_path`.
  static absl::StatusOr<std::unique_ptr<VirtualNetwork>> Create(int hosts, std::string log_path);
  ~VirtualNetwork();
  VirtualNetwork(const VirtualNetwork&) = delete;
  VirtualNetwork& operator=(const VirtualNetwork&) = delete;

  // One more host, with the next address; returns its index.
  absl::StatusOr<int> AddHost();

  int hosts() const { return static_cast<int>(namespaces_.size()); }
  // Host h (0-based) is named h<h+1> and has address <subnet>.<h+1>.
  std::string address(int h) const;
  // The test process's own address on the network (<subnet>.254).
  std::string own_address() const;
  const std::string& namespace_name(int h) const { return namespaces_.at(h); }
  // The argv prefix that runs a program inside host h.
  std::vector<std::string> Exec(int h) const;

  // Drops every packet host h would receive on eth0 and every one it would send (kBoth), or
  // only those it sends (kOutgoing); its loopback keeps working. Heal removes the rules.
  enum class Cut { kBoth, kOutgoing };
  absl::Status CutOff(int h, Cut how);
  absl::Status Heal(int h);

  // Sends every TCP connection host `from` opens to host `to`'s `port` to the test's own
  // address at `via_port` instead (a DNAT rule in `from`'s namespace), where a proxy can
  // carry it on; the host does not notice. Heal leaves these rules alone.
  absl::Status Detour(int from, int to, int port, int via_port);

  // Runs argv (a program and its arguments) to completion; an error names the exit status
  // and the command's output.
  absl::Status Run(const std::vector<std::string>& argv);

 private:
  VirtualNetwork(std::string id, std::string subnet, std::string log_path);

  const std::string id_;      // "pcmh-<pid>"
  const std::string subnet_;  // "10.A.B" (the /24 without its last byte)
  const std::string log_path_;
  std::vector<std::string> namespaces_;
  bool bridge_made_ = false;
};

}  // namespace penncloud::testing
