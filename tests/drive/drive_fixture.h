// The fixture of the drive's process tests that act as signed-up users: the system started
// (DriveCluster), accounts signed up, and curl as one of them, through the coordinator or
// straight to the frontend.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/drive/drive_cluster.h"

namespace penncloud::testing {

class DriveFixture : public ::testing::Test {
 protected:
  using Reply = CurlReply;

  // Starts the system and signs up `users`. Requests go through the coordinator, or with
  // `to_frontend` straight to the frontend (whose kill the coordinator would otherwise hide
  // by retrying). Call as ASSERT_NO_FATAL_FAILURE(Start(...)).
  void Start(const std::vector<std::string>& users, bool to_frontend = false) {
    auto c = DriveCluster::Start();
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    dir_ = cluster_->dir();
    to_frontend_ = to_frontend;
    for (const std::string& user : users) {
      auto csrf = cluster_->SignUp(user);
      ASSERT_TRUE(csrf.ok()) << csrf.status();
      csrf_[user] = *csrf;
    }
  }

  // curl with `args` (already quoted) against `path`; the body goes to `out` if given.
  Reply Curl(const std::string& args, const std::string& path, const std::string& out = "") {
    int port = to_frontend_ ? cluster_->frontend_port() : cluster_->http_port();
    return RunCurl(port, dir_, args, path, out);
  }
  // `user` ("" for nobody) with their cookie and, if `csrf`, their CSRF token; `json` (if not
  // empty) as the body.
  Reply As(const std::string& user, const std::string& method, const std::string& path,
           const std::string& json = "", bool csrf = true) {
    std::string args = "-X " + method;
    if (!user.empty()) absl::StrAppend(&args, " -b ", dir_, "/", user, ".jar");
    if (!user.empty() && csrf) absl::StrAppend(&args, " -H 'X-CSRF-Token: ", csrf_[user], "'");
    if (!json.empty()) {
      std::string file = dir_ + "/body.json";
      std::ofstream(file, std::ios::binary) << json;
      absl::StrAppend(&args, " -H 'Content-Type: application/json' --data-binary @", file);
    }
    return Curl(args, path);
  }
  // Uploads `bytes` as `user`'s file at `path` (spaces allowed).
  Reply Put(const std::string& user, const std::string& path, const std::string& bytes) {
    std::string file = dir_ + "/upload.bin";
    std::ofstream(file, std::ios::binary) << bytes;
    return Curl(absl::StrCat("-T '", file, "' -b ", dir_, "/", user,
                             ".jar -H 'X-CSRF-Token: ", csrf_[user], "'"),
                "/api/files/content?path=" + Encode(path));
  }
  static std::string Encode(const std::string& path) {
    std::string out;
    for (char c : path) out += c == ' ' ? std::string("%20") : std::string(1, c);
    return out;
  }

  std::unique_ptr<DriveCluster> cluster_;
  std::string dir_;
  std::map<std::string, std::string> csrf_;

 private:
  bool to_frontend_ = false;
};

}  // namespace penncloud::testing
