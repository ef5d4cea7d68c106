#include "frontend/events_api.h"

#include <thread>

#include "frontend/mail_api_test_fixture.h"
#include "gtest/gtest.h"
#include "mail/mail_store.h"

namespace penncloud::frontend {
namespace {

class EventsTest : public MailApiFixture {
 protected:
  // The next non-empty piece of `res`'s stream, polling up to 10 s (beyond the watch's
  // fallback); nullopt once it ended. Keep-alives are skipped.
  std::optional<std::string> NextEvent(Response& res) {
    for (int i = 0; i < 100; ++i) {
      auto piece = res.stream();
      EXPECT_TRUE(piece.ok());
      if (!piece->has_value()) return std::nullopt;
      if (!(*piece)->empty() && !(*piece)->starts_with(":")) return *piece;
      std::this_thread::sleep_for(res.stream_poll);
    }
    return std::string("(nothing within 10 s)");
  }
};

TEST_F(EventsTest, AChangeToAnyFolderIsAnEvent) {
  Response res = Call("bob", "GET", "/api/events");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.headers.Get("Content-Type"), "text/event-stream");
  ASSERT_TRUE(res.stream);
  EXPECT_GT(res.stream_poll.count(), 0);
  EXPECT_NE(NextEvent(res)->find("event: ready"), std::string::npos);
  EXPECT_EQ(**res.stream(), "");  // nothing happened yet

  CallJson("alice", "POST", "/api/mail", R"({"to":["bob"],"subject":"hi"})", 201);
  const std::string inbox = "event: mail\ndata: {\"folders\":[\"inbox\"]}\n\n";
  EXPECT_EQ(*NextEvent(res), inbox);
  // Once more when the change has settled (the entry is written after its number).
  EXPECT_EQ(*NextEvent(res), inbox);
  // Another client's change (here the store, as IMAP would) is an event too; a new
  // folder shows at the watch's fallback look.
  mail::MailStore store(kvs_);
  ASSERT_TRUE(store.CreateFolder("bob", "Work").ok());
  EXPECT_NE(NextEvent(res)->find("Work"), std::string::npos);
}

TEST_F(EventsTest, StreamsAreBoundedPerUserAndEndWithTheSession) {
  std::vector<Response> open;
  for (int i = 0; i < kMaxEventStreamsPerUser; ++i) {
    open.push_back(Call("bob", "GET", "/api/events"));
    ASSERT_EQ(open.back().status, 200);
  }
  EXPECT_EQ(Call("bob", "GET", "/api/events").status, 429);
  EXPECT_EQ(Call("alice", "GET", "/api/events").status, 200);  // per user
  open.pop_back();                                             // a closed stream frees its place
  EXPECT_EQ(Call("bob", "GET", "/api/events").status, 200);
  EXPECT_EQ(Call("", "GET", "/api/events").status, 401);

  Response res = Call("carol", "GET", "/api/events");
  ASSERT_EQ(res.status, 200);
  NextEvent(res);
  EXPECT_EQ(Call("carol", "POST", "/api/logout").status, 200);
  EXPECT_EQ(NextEvent(res), std::nullopt);
}

}  // namespace
}  // namespace penncloud::frontend
