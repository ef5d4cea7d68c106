// The drive API tests' fixture (drive_api_test, share_api_test): an in-memory store and
// accounts behind a router, with no routes yet (each test registers the ones it covers);
// SignUp makes a user with a live session and Call sends a request as that user.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "accounts/accounts.h"
#include "frontend/api_context.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"

namespace penncloud::frontend {

struct Login {
  std::string cookie;
  std::string csrf;
};

class DriveApiFixture : public ::testing::Test {
 protected:
  DriveApiFixture()
      : accounts_(&store_, accounts::Options{.hash_params = accounts::kTestHashParams}) {
    ctx_.store = &store_;
    ctx_.accounts = &accounts_;
  }

  Login SignUp(const std::string& name) {
    EXPECT_TRUE(accounts_.SignUp(name, "password1").ok());
    auto login = accounts_.LogIn(name, "password1");
    EXPECT_TRUE(login.ok());
    return Login{login->token, login->session.csrf};
  }

  Response Call(const Login& who, std::string method, std::string target, std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {},
                BodyReader* reader = nullptr) {
    Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.body_reader = reader;
    if (!who.cookie.empty()) req.headers.Add("Cookie", "pc_session=" + who.cookie);
    if (!who.csrf.empty()) req.headers.Add("X-CSRF-Token", who.csrf);
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    ParseTarget(req);
    return router_.Dispatch(req);
  }

  // The whole body of a response, draining its stream.
  static std::string Body(Response& res) {
    if (!res.stream) return res.body;
    std::string out;
    for (int i = 0; i < 100000; ++i) {
      auto piece = res.stream();
      EXPECT_TRUE(piece.ok());
      if (!piece.ok() || !*piece) break;
      out += **piece;
    }
    return out;
  }

  kvs::MemoryClient store_;
  accounts::Accounts accounts_;
  ApiContext ctx_;
  Router router_;
};

}  // namespace penncloud::frontend
