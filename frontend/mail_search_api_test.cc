// The search and conversation endpoints through the router, as a frontend dispatches them,
// over an in-memory store: shapes, bad queries, paging, sessions, and that the routes win
// over /api/mail/{id}.
#include "frontend/mail_search_api.h"

#include <map>
#include <set>

#include "frontend/mail_threads_api.h"
#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/mail_store.h"
#include "mail/text.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {
namespace {

using nlohmann::json;

class MailSearchApiTest : public ::testing::Test {
 protected:
  MailSearchApiTest()
      : accounts_(&kvs_, accounts::Options{.hash_params = accounts::kTestHashParams}) {
    ctx_.store = &kvs_;
    ctx_.accounts = &accounts_;
    // The order of frontend/routes.cc: the webmail's /api/mail/{id} comes after (a stand-in
    // here), so a request it answered would be a 418.
    RegisterMailSearchRoutes(router_, ctx_);
    RegisterMailThreadsRoutes(router_, ctx_);
    router_.Add("GET", "/api/mail/{id}", [](Request&) { return ErrorResponse(418, "taken"); });
    for (const char* u : {"alice", "bob"}) {
      EXPECT_TRUE(accounts_.SignUp(u, "password1").ok());
      auto login = accounts_.LogIn(u, "password1");
      cookies_[u] = login->token;
    }
  }

  std::string Deliver(const std::string& user, std::string_view folder, std::string_view subject,
                      std::string_view body, std::string_view headers = "") {
    auto meta = store_.Add(
        user, folder,
        mail::Cat("From: Carol <carol@example.com>\r\nTo: ", user,
                  "@penncloud.local\r\nSubject: ", subject, "\r\n", headers, "\r\n", body, "\r\n"),
        false);
    EXPECT_TRUE(meta.ok()) << meta.status();
    return meta.ok() ? meta->id() : "";
  }

  json Get(const std::string& user, const std::string& target, int want = 200) {
    Request req;
    req.method = "GET";
    req.target = target;
    if (!user.empty()) req.headers.Add("Cookie", mail::Cat("pc_session=", cookies_[user]));
    ParseTarget(req);
    Response res = router_.Dispatch(req);
    EXPECT_EQ(res.status, want) << target << ": " << res.body;
    return json::parse(res.body, nullptr, false);
  }

  kvs::MemoryClient kvs_;
  accounts::Accounts accounts_;
  mail::MailStore store_{kvs_};
  ApiContext ctx_;
  Router router_;
  std::map<std::string, std::string> cookies_;
};

TEST_F(MailSearchApiTest, SearchAnswersInTheListingShapeWithFolder) {
  std::string budget = Deliver("alice", mail::kInbox, "Quarterly budget", "Numbers for Zürich");
  Deliver("alice", mail::kTrash, "Lunch", "noon at the cafe");
  json hits = Get("alice", "/api/mail/search?q=z%C3%BCrich");
  ASSERT_EQ(hits["messages"].size(), 1u) << hits.dump();
  const json& m = hits["messages"][0];
  EXPECT_EQ(m["id"], budget);
  EXPECT_EQ(m["folder"], "inbox");
  EXPECT_EQ(m["subject"], "Quarterly budget");
  EXPECT_EQ(m["from"], "Carol <carol@example.com>");
  EXPECT_EQ(m["unread"], true);
  for (const char* key : {"date", "received", "to", "preview", "has_attachments", "flagged"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(hits["next"], "");
  json trash = Get("alice", "/api/mail/search?q=%22at+the+cafe%22+in%3Atrash");
  ASSERT_EQ(trash["messages"].size(), 1u);
  EXPECT_EQ(trash["messages"][0]["folder"], "trash");
  EXPECT_TRUE(Get("bob", "/api/mail/search?q=budget")["messages"].empty());  // alice's only
  Get("", "/api/mail/search?q=budget", 401);
}

TEST_F(MailSearchApiTest, BadQueriesAre400WithTheReason) {
  auto error = [&](const std::string& q) {
    return Get("alice", mail::Cat("/api/mail/search?q=", q), 400)["error"];
  };
  EXPECT_EQ(error("label%3Ax"),
            "unknown operator 'label:' (from: to: subject: in: is:unread has:attachment before: "
            "after:)");
  EXPECT_EQ(error("before%3A2026-13-01"), "before: wants a date as YYYY-MM-DD, not '2026-13-01'");
  EXPECT_EQ(error("%22open"), "a quote is not closed");
  EXPECT_EQ(error(std::string(513, 'a')), "the query is longer than 512 bytes");
  EXPECT_EQ(error(""), "the query is empty");
  EXPECT_EQ(Get("alice", "/api/mail/search?q=x&limit=101", 400)["error"], "limit must be 1..100");
  EXPECT_EQ(Get("alice", "/api/mail/search?q=x&cursor=short", 400)["error"], "bad cursor");
}

TEST_F(MailSearchApiTest, PagesFollowTheCursor) {
  for (int i = 0; i < 5; ++i) Deliver("alice", mail::kInbox, "paged", "word");
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    json r = Get("alice", mail::Cat("/api/mail/search?q=word&limit=2",
                                    cursor.empty() ? "" : "&cursor=", cursor));
    EXPECT_LE(r["messages"].size(), 2u);
    for (const json& m : r["messages"]) seen.insert(m["id"]);
    cursor = r["next"];
    if (cursor.empty()) break;
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(MailSearchApiTest, ThreadsGroupReplies) {
  std::string plan = Deliver("alice", mail::kInbox, "Plan", "v1", "Message-ID: <p@x>\r\n");
  std::string reply = Deliver("alice", mail::kInbox, "Re: Plan", "ok",
                              "Message-ID: <r@x>\r\nIn-Reply-To: <p@x>\r\n");
  std::string other = Deliver("alice", mail::kInbox, "Other", "x");
  json threads = Get("alice", "/api/mail/threads?folder=inbox");
  ASSERT_EQ(threads["threads"].size(), 2u) << threads.dump();
  EXPECT_EQ(threads["total"], 2);
  const json& first = threads["threads"][0];  // the most recent activity: "Other"
  EXPECT_EQ(first["messages"], json::array({other}));
  const json& plan_thread = threads["threads"][1];
  EXPECT_EQ(plan_thread["id"], plan);
  EXPECT_EQ(plan_thread["subject"], "Plan");
  EXPECT_EQ(plan_thread["count"], 2);
  EXPECT_EQ(plan_thread["unread"], 2);
  EXPECT_EQ(plan_thread["messages"], json::array({plan, reply}));
  EXPECT_EQ(Get("alice", "/api/mail/threads?folder=inbox&limit=1&offset=1")["threads"][0]["id"],
            plan);
  Get("alice", "/api/mail/threads?folder=nowhere", 400);
  Get("alice", "/api/mail/threads?folder=inbox&limit=0", 400);
  Get("", "/api/mail/threads?folder=inbox", 401);
}

}  // namespace
}  // namespace penncloud::frontend
