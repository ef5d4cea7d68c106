// The whole system a drive test needs: a real 3-replica KVS group, the coordinator (:8000's
// role, on a free port) and one frontend registered with it, all on free loopback ports.
// Clients are the real ones (curl, litmus, rclone), run as child processes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::testing {

class DriveCluster {
 public:
  // `frontend_flags` are added to the frontend's (benchmarks compare settings with them);
  // `kvs` sets up the store's group (a benchmark keeps its filled store with it).
  static absl::StatusOr<std::unique_ptr<DriveCluster>> Start(
      std::vector<std::string> frontend_flags = {}, KvsGroupOptions kvs = {});
  ~DriveCluster();

  int http_port() const { return http_port_; }  // the coordinator
  const std::string& kvs_spec() const { return kvs_->spec(); }
  int frontend_port() const { return frontend_port_; }  // the frontend, directly
  pid_t frontend_pid() const { return frontend_.pid(); }
  const std::string& dir() const { return dir_; }

  void KillFrontend() { frontend_.Kill(), frontend_.Wait(); }
  absl::Status StartFrontend();

  // Signs up `user` (password "password1") through the coordinator; writes a cookie jar to
  // dir()/<user>.jar and returns the CSRF token.
  absl::StatusOr<std::string> SignUp(const std::string& user);

  // Runs rclone (at most 120 s) with `args`, which name the coordinator's WebDAV as the remote
  // "pc:", signed in as `user` (signed up, password "password1"); returns its exit status and
  // fills *output with what it printed (stderr too).
  int Rclone(const std::string& user, const std::string& args, std::string* output = nullptr);

 private:
  DriveCluster() = default;

  std::string dir_;
  std::vector<std::string> frontend_flags_;
  std::unique_ptr<KvsGroup> kvs_;
  Process coordinator_;
  Process frontend_;
  int http_port_ = 0, grpc_port_ = 0, frontend_port_ = 0;
};

// One curl exchange: the status, the header fields (names in lower case) and the body.
struct CurlReply {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string Header(const std::string& lower_case_name) const;  // "" when absent
  nlohmann::json Json() const;  // a discarded value when the body is not JSON
};

// Runs curl with `args` (already quoted; they go before the URL) against
// http://127.0.0.1:<port><target>, its scratch files in `dir`. With `body_file` the body is
// written there instead of into the reply.
CurlReply RunCurl(int port, const std::string& dir, const std::string& args,
                  const std::string& target, const std::string& body_file = "");

// Runs a shell command line; returns its exit status and fills *output with its stdout.
int Shell(const std::string& command, std::string* output = nullptr);

// The SHA-256 of a file, in hex (via sha256sum).
std::string Sha256File(const std::string& path);

// Writes `bytes` pseudo-random bytes from `seed` to `path`.
void WriteRandomFile(const std::string& path, uint64_t bytes, uint32_t seed);

// The resident set size of a process in KiB (VmRSS), or -1.
long RssKib(pid_t pid);

}  // namespace penncloud::testing
