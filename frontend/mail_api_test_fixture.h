// The webmail API's test fixture: an in-memory store, three users with live sessions, and
// the account, mail and event routes; Call sends a request as one of them.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "frontend/account_settings_api.h"
#include "frontend/accounts_api.h"
#include "frontend/events_api.h"
#include "frontend/mail_api.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {

class MailApiFixture : public ::testing::Test {
 protected:
  MailApiFixture() : accounts_(&kvs_, accounts::Options{.hash_params = accounts::kTestHashParams}) {
    ctx_.store = &kvs_;
    ctx_.accounts = &accounts_;
    RegisterAccountRoutes(router_, ctx_);
    RegisterAccountSettingsRoutes(router_, ctx_);
    RegisterMailRoutes(router_, ctx_);
    RegisterEventRoutes(router_, ctx_);
    for (const char* u : {"alice", "bob", "carol"}) {
      EXPECT_TRUE(accounts_.SignUp(u, "password1").ok());
      auto login = accounts_.LogIn(u, "password1");
      sessions_[u] = {login->token, login->session.csrf};
    }
  }

  Response Call(const std::string& user, std::string method, std::string target,
                std::string body = "") {
    Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    if (!user.empty()) {
      req.headers.Add("Cookie", "pc_session=" + sessions_[user].first);
      req.headers.Add("X-CSRF-Token", sessions_[user].second);
    }
    ParseTarget(req);
    return router_.Dispatch(req);
  }
  nlohmann::json CallJson(const std::string& user, std::string method, std::string target,
                          std::string body = "", int want = 200) {
    Response res = Call(user, std::move(method), std::move(target), std::move(body));
    EXPECT_EQ(res.status, want) << res.body;
    return nlohmann::json::parse(res.body);
  }
  nlohmann::json Inbox(const std::string& user, const std::string& extra = "") {
    return CallJson(user, "GET", "/api/mail?folder=inbox" + extra)["messages"];
  }

  kvs::MemoryClient kvs_;
  accounts::Accounts accounts_;
  ApiContext ctx_;
  Router router_;
  std::map<std::string, std::pair<std::string, std::string>> sessions_;
};

}  // namespace penncloud::frontend
