#include "tests/drive/drive_cluster.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace penncloud::testing {

absl::StatusOr<std::unique_ptr<DriveCluster>> DriveCluster::Start(
    std::vector<std::string> frontend_flags, KvsGroupOptions kvs_options) {
  std::unique_ptr<DriveCluster> c(new DriveCluster());
  c->frontend_flags_ = std::move(frontend_flags);
  c->dir_ = TempDir("penncloud-drive");
  auto kvs = KvsGroup::Start(std::move(kvs_options));
  if (!kvs.ok()) return kvs.status();
  c->kvs_ = std::move(*kvs);
  c->http_port_ = FreePort();
  c->grpc_port_ = FreePort();
  c->frontend_port_ = FreePort();
  auto coord = Process::Start(
      BinaryPath("coordinator"),
      {absl::StrCat("--http_port=", c->http_port_), absl::StrCat("--grpc_port=", c->grpc_port_),
       absl::StrCat("--kvs=", c->kvs_->spec()), "--down_after_ms=3000"},
      absl::StrCat(c->dir_, "/coordinator.log"));
  if (!coord.ok()) return coord.status();
  c->coordinator_ = std::move(*coord);
  if (!WaitForPort(c->http_port_)) return absl::UnavailableError("coordinator did not start");
  if (auto s = c->StartFrontend(); !s.ok()) return s;
  // The coordinator routes to the frontend once its first heartbeat arrived.
  for (int i = 0; i < 100; ++i) {
    std::string code;
    Shell(absl::StrCat("curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:",
                       c->http_port_, "/api/me"),
          &code);
    if (code == "401") return c;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError("coordinator never routed to the frontend");
}

DriveCluster::~DriveCluster() {
  frontend_.Kill();
  coordinator_.Kill();
  // The test files are big (64 MiB and more): keep them only when asked to.
  RemoveTestDir(dir_);
}

absl::Status DriveCluster::StartFrontend() {
  std::vector<std::string> flags = {
      absl::StrCat("--port=", frontend_port_), absl::StrCat("--kvs=", kvs_->spec()),
      absl::StrCat("--coordinator=127.0.0.1:", grpc_port_), "--web_root=" + SourcePath("web"),
      "--io_threads=1", "--workers=16",
      // Webmail sends deliver at once, as these tests read them right after.
      "--undo_send_default_s=0"};
  flags.insert(flags.end(), frontend_flags_.begin(), frontend_flags_.end());
  auto fe = Process::Start(BinaryPath("frontend"), flags, absl::StrCat(dir_, "/frontend.log"));
  if (!fe.ok()) return fe.status();
  frontend_ = std::move(*fe);
  if (!WaitForPort(frontend_port_)) return absl::UnavailableError("frontend did not start");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DriveCluster::SignUp(const std::string& user) {
  std::string out;
  int rc = Shell(
      absl::StrCat("curl -s --max-time 20 -c ", dir_, "/", user,
                   ".jar -X POST -d '{\"username\":\"", user,
                   "\",\"password\":\"password1\"}' http://127.0.0.1:", http_port_, "/api/signup"),
      &out);
  size_t at = out.find("\"csrf\":\"");
  if (rc != 0 || at == std::string::npos) return absl::InternalError("signup failed: " + out);
  size_t start = at + 8;
  return out.substr(start, out.find('"', start) - start);
}

int DriveCluster::Rclone(const std::string& user, const std::string& args, std::string* output) {
  std::string env = absl::StrCat("RCLONE_CONFIG='", dir_, "/rclone-", user, ".conf' ");
  std::string made;
  if (Shell(absl::StrCat("test -s '", dir_, "/rclone-", user, ".conf'")) != 0) {
    // key=value pairs: an obscured password may start with '-', which rclone would take for
    // a flag as an argument of its own (a CI run failed so).
    int rc =
        Shell(absl::StrCat(env, "rclone config create pc webdav url=http://127.0.0.1:", http_port_,
                           "/dav/ vendor=other user=", user,
                           " pass=$(rclone obscure password1) 2>&1 >/dev/null"),
              &made);
    if (rc != 0) {
      if (output != nullptr) *output = "rclone config create failed: " + made;
      return rc;
    }
  }
  return Shell(absl::StrCat(env, "timeout 120 rclone ", args, " 2>&1"), output);
}

std::string CurlReply::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? "" : it->second;
}

nlohmann::json CurlReply::Json() const { return nlohmann::json::parse(body, nullptr, false); }

CurlReply RunCurl(int port, const std::string& dir, const std::string& args,
                  const std::string& target, const std::string& body_file) {
  const std::string head = dir + "/curl.head",
                    body = body_file.empty() ? dir + "/curl.body" : body_file;
  std::string code;
  Shell(absl::StrCat("curl -s --max-time 60 -D '", head, "' -o '", body, "' -w '%{http_code}' ",
                     args, " 'http://127.0.0.1:", port, target, "'"),
        &code);
  CurlReply r;
  r.status = std::atoi(code.c_str());
  std::ifstream h(head);
  for (std::string line; std::getline(h, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  if (body_file.empty()) {
    std::ifstream b(body, std::ios::binary);
    r.body.assign(std::istreambuf_iterator<char>(b), {});
  }
  return r;
}

int Shell(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::string out;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Sha256File(const std::string& path) {
  std::string out;
  Shell("sha256sum '" + path + "'", &out);
  return out.substr(0, 64);
}

void WriteRandomFile(const std::string& path, uint64_t bytes, uint32_t seed) {
  std::ofstream f(path, std::ios::binary);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> block(1 << 17);  // 1 MiB
  for (uint64_t written = 0; written < bytes;) {
    for (auto& w : block) w = rng();
    size_t n = static_cast<size_t>(std::min<uint64_t>(bytes - written, block.size() * 8));
    f.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    written += n;
  }
}

long RssKib(pid_t pid) {
  std::ifstream f(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace penncloud::testing
