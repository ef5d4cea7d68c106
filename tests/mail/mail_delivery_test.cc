// Delivery timelines, undo send and the console's queue, through real processes: a KVS
// group, smtp (whose queue runner relays to sink.py by-recipient, a remote server answering
// 250, 451 or 550 per recipient), a frontend and a coordinator, driven with curl.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"
#include "nlohmann/json.hpp"
#include "tests/mail/mail_system.h"

namespace penncloud::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr char kAdminPassword[] = "queue-admin-pw";

struct Answer {
  int status = 0;
  json body;
};

class MailDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Deferred mail waits a minute on its own, so only "retry now" brings it back early.
    auto system = MailSystem::Start({"--relay_retry_base_ms=60000"});
    ASSERT_TRUE(system.ok()) << system.status();
    sys_ = std::move(*system);
    remote_dir_ = sys_->dir() + "/remote";
    auto sink = Process::Start("/usr/bin/python3",
                               {MailSystem::Script("sink.py"), std::to_string(sys_->sink_port()),
                                remote_dir_, "by-recipient"},
                               sys_->dir() + "/sink.log");
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(*sink);
    ASSERT_TRUE(WaitForPort(sys_->sink_port()));

    std::ofstream(sys_->dir() + "/admin-password") << kAdminPassword << "\n";
    http_port_ = FreePort();
    grpc_port_ = FreePort();
    auto coordinator = Process::Start(
        BinaryPath("coordinator"),
        {absl::StrCat("--http_port=", http_port_), absl::StrCat("--grpc_port=", grpc_port_),
         absl::StrCat("--metrics_listen=127.0.0.1:", FreePort()), "--kvs=" + sys_->kvs_spec(),
         "--admin_password_file=" + sys_->dir() + "/admin-password",
         "--web_root=" + SourcePath("web"), "--io_threads=1"},
        sys_->dir() + "/coordinator.log");
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = std::move(*coordinator);
    ASSERT_TRUE(WaitForPort(http_port_));
    ASSERT_TRUE(StartFrontend().ok());
    LogIn("alice", "alice", MailSystem::kAlicePassword, frontend_port_);
  }

  absl::Status StartFrontend() {
    frontend_port_ = FreePort();
    auto p = Process::Start(BinaryPath("frontend"),
                            {absl::StrCat("--port=", frontend_port_), "--kvs=" + sys_->kvs_spec(),
                             absl::StrCat("--coordinator=127.0.0.1:", grpc_port_),
                             "--web_root=" + SourcePath("web"), "--io_threads=1", "--workers=4"},
                            absl::StrCat(sys_->dir(), "/frontend-", frontend_port_, ".log"));
    if (!p.ok()) return p.status();
    frontend_ = std::move(*p);
    if (!WaitForPort(frontend_port_)) return absl::UnavailableError("frontend");
    return absl::OkStatus();
  }

  // One JSON call with curl as `browser` (own cookie jar and CSRF token) to `port`.
  Answer Api(const std::string& browser, const std::string& method, const std::string& path,
             const json& body = nullptr, int port = 0) {
    if (port == 0) port = frontend_port_;
    std::string jar = sys_->dir() + "/" + browser + ".jar";
    std::string cmd = absl::StrCat("curl -s -o ", sys_->dir(), "/body -w '%{http_code}' -X ",
                                   method, " -b ", jar, " -c ", jar);
    if (!csrf_[browser].empty()) absl::StrAppend(&cmd, " -H 'X-CSRF-Token: ", csrf_[browser], "'");
    if (!body.is_null()) {
      std::ofstream(sys_->dir() + "/request") << body.dump();
      absl::StrAppend(&cmd, " -H 'Content-Type: application/json' --data-binary @", sys_->dir(),
                      "/request");
    }
    absl::StrAppend(&cmd, " 'http://127.0.0.1:", port, path, "'");
    ShResult r = Sh(cmd);
    Answer a;
    EXPECT_TRUE(absl::SimpleAtoi(r.output, &a.status)) << cmd << ": " << r.output;
    std::ifstream in(sys_->dir() + "/body");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    a.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return a;
  }

  void LogIn(const std::string& browser, const std::string& user, const std::string& password,
             int port) {
    Answer a;
    // The coordinator makes its admin account shortly after it starts.
    for (int i = 0; i < 100; ++i) {
      a = Api(browser, "POST", "/api/login", {{"username", user}, {"password", password}}, port);
      if (a.status == 200) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    ASSERT_EQ(a.status, 200) << a.body;
    csrf_[browser] = a.body["csrf"];
  }

  void SetUndo(int seconds) {
    ASSERT_EQ(Api("alice", "PUT", "/api/account/undo-send", {{"seconds", seconds}}).status, 200);
  }

  std::string Send(const json& to, const std::string& subject) {
    Answer a = Api("alice", "POST", "/api/mail",
                   {{"to", to}, {"subject", subject}, {"body", "hi"}, {"undo", true}});
    EXPECT_EQ(a.status, 201) << a.body;
    return a.body.value("id", "");
  }

  json Timeline(const std::string& id) {
    Answer a = Api("alice", "GET", "/api/mail/" + id + "/delivery");
    EXPECT_EQ(a.status, 200) << a.body;
    return a.body;
  }
  static json Line(const json& timeline, const std::string& address) {
    for (const json& r : timeline.value("recipients", json::array())) {
      if (r["address"] == address) return r;
    }
    return json::object();
  }
  // Waits (at most 20 s) until `address`'s state in message `id` is `state`.
  json WaitForState(const std::string& id, const std::string& address, const std::string& state) {
    json t;
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    do {
      t = Timeline(id);
      if (Line(t, address).value("state", "") == state) return t;
      std::this_thread::sleep_for(milliseconds(100));
    } while (steady_clock::now() < deadline);
    ADD_FAILURE() << address << " never became " << state << ": " << t.dump();
    return t;
  }

  int RemoteCount() {
    if (!std::filesystem::exists(remote_dir_)) return 0;
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator(remote_dir_)) {
      n += e.path().extension() == ".eml";
    }
    return n;
  }
  int Count(const std::string& user, const std::string& folder, const std::string& subject) {
    mail::MailStore store(sys_->kvs());
    auto all = store.ListAll(user, folder);
    EXPECT_TRUE(all.ok()) << all.status();
    int n = 0;
    for (const auto& m : all.ok() ? *all : std::vector<mail::pb::MessageMeta>{}) {
      n += m.subject().find(subject) != std::string::npos;
    }
    return n;
  }
  // Waits (at most 20 s) for `done`.
  template <typename Pred>
  bool Eventually(Pred done) {
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return true;
  }

  std::unique_ptr<MailSystem> sys_;
  std::string remote_dir_;
  Process sink_, coordinator_, frontend_;
  int http_port_ = 0, grpc_port_ = 0, frontend_port_ = 0;
  std::map<std::string, std::string> csrf_;
};

TEST_F(MailDeliveryTest, TimelineShowsAcceptedDeferredBouncedAndRetryCancel) {
  SetUndo(0);
  std::string id = Send({"ok1@example.com", "defer1@example.com", "bounce1@example.com", "bob"},
                        "Mixed fortunes");
  json t = WaitForState(id, "ok1@example.com", "accepted");
  EXPECT_THAT(Line(t, "ok1@example.com").value("reply", ""), HasSubstr("250 2.0.0 Ok: queued"));
  EXPECT_EQ(Line(t, "bob@penncloud.local")["state"], "delivered");
  t = WaitForState(id, "bounce1@example.com", "bounced");
  EXPECT_THAT(Line(t, "bounce1@example.com").value("reply", ""), HasSubstr("550 5.1.1"));
  json deferred = Line(t, "defer1@example.com");
  EXPECT_EQ(deferred["state"], "deferred") << t.dump();
  EXPECT_THAT(deferred.value("reply", ""), HasSubstr("451 4.2.0"));
  EXPECT_TRUE(deferred.contains("next_retry")) << t.dump();
  EXPECT_EQ(deferred["attempts"], 1);
  EXPECT_TRUE(t["pending"].get<bool>());
  EXPECT_EQ(RemoteCount(), 1);  // ok1's copy only
  EXPECT_TRUE(Eventually([&] { return Count("alice", "inbox", "Undelivered") == 1; }));

  // Retry now, once the remote takes it: accepted well before the minute's back-off.
  std::ofstream(remote_dir_ + "/open") << "";
  ASSERT_EQ(Api("alice", "POST", "/api/mail/" + id + "/delivery/retry").status, 200);
  t = WaitForState(id, "defer1@example.com", "accepted");
  EXPECT_EQ(Line(t, "defer1@example.com")["attempts"], 2);
  EXPECT_FALSE(t["pending"].get<bool>());
  EXPECT_EQ(RemoteCount(), 2);
  EXPECT_EQ(Api("alice", "POST", "/api/mail/" + id + "/delivery/retry").status, 409);

  // Cancel stops a deferred one: no bounce, nothing more tried.
  std::filesystem::remove(remote_dir_ + "/open");
  std::string second = Send({"defer2@example.com"}, "Never mind");
  WaitForState(second, "defer2@example.com", "deferred");
  Answer cancelled = Api("alice", "POST", "/api/mail/" + second + "/delivery/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Line(cancelled.body, "defer2@example.com")["state"], "cancelled");
  EXPECT_EQ(Api("alice", "POST", "/api/mail/" + second + "/delivery/retry").status, 409);
  std::ofstream(remote_dir_ + "/open") << "";
  LogIn("admin", "admin", kAdminPassword, http_port_);
  Answer queue = Api("admin", "GET", "/api/admin/queue", nullptr, http_port_);
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_TRUE(queue.body["messages"].empty()) << queue.body;
  EXPECT_EQ(Timeline(second)["recipients"][0]["state"], "cancelled");
  EXPECT_EQ(Count("alice", "inbox", "Undelivered"), 1);
  EXPECT_EQ(RemoteCount(), 2);

  // Someone else's message, or one that is not in Sent, has no timeline.
  EXPECT_EQ(Api("alice", "GET", "/api/mail/00000000000000000000000000000000/delivery").status, 404);
  EXPECT_EQ(Api("alice", "PUT", "/api/account/undo-send", {{"seconds", 31}}).status, 400);
  EXPECT_EQ(Api("alice", "PUT", "/api/account/undo-send", {{"seconds", "5"}}).status, 400);
}

// Mail a client submits over SMTP (AUTH after STARTTLS) gets what a webmail send gets: one
// Sent copy, a timeline webmail shows, entries the console lists, retry and cancel.
TEST_F(MailDeliveryTest, SmtpSubmissionsHaveASentCopyAndATimeline) {
  ShResult sent = Sh(absl::StrCat("/usr/bin/python3 ", MailSystem::Script("smtp_submit.py"), " ",
                                  sys_->smtp_port(), " alice ", MailSystem::kAlicePassword,
                                  " alice@penncloud.local 'From Thunderbird' bob@penncloud.local",
                                  " ok8@example.com defer8@example.com"));
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  Answer listed = Api("alice", "GET", "/api/mail?folder=sent");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.body["messages"].size(), 1u) << listed.body;
  EXPECT_EQ(listed.body["messages"][0]["subject"], "From Thunderbird");
  const std::string id = listed.body["messages"][0]["id"];

  json t = Timeline(id);
  EXPECT_EQ(Line(t, "bob@penncloud.local")["state"], "delivered") << t.dump();
  EXPECT_EQ(Count("bob", "inbox", "From Thunderbird"), 1);
  t = WaitForState(id, "ok8@example.com", "accepted");
  EXPECT_THAT(Line(t, "ok8@example.com").value("reply", ""), HasSubstr("250"));
  t = WaitForState(id, "defer8@example.com", "deferred");
  EXPECT_THAT(Line(t, "defer8@example.com").value("reply", ""), HasSubstr("451 4.2.0"));
  EXPECT_TRUE(t["pending"].get<bool>());
  EXPECT_EQ(RemoteCount(), 1);

  LogIn("admin", "admin", kAdminPassword, http_port_);
  Answer queue = Api("admin", "GET", "/api/admin/queue", nullptr, http_port_);
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(queue.body["messages"].size(), 1u) << queue.body;
  EXPECT_EQ(queue.body["messages"][0]["sender"], "alice@penncloud.local");
  EXPECT_EQ(queue.body["messages"][0]["recipients"], json::array({"defer8@example.com"}));

  // The owner's retry works on it as on a webmail send.
  std::ofstream(remote_dir_ + "/open") << "";
  ASSERT_EQ(Api("alice", "POST", "/api/mail/" + id + "/delivery/retry").status, 200);
  t = WaitForState(id, "defer8@example.com", "accepted");
  EXPECT_FALSE(t["pending"].get<bool>());
  EXPECT_EQ(RemoteCount(), 2);
  EXPECT_EQ(Count("alice", "sent", "From Thunderbird"), 1);
}

TEST_F(MailDeliveryTest, ConsoleListsRetriesAndDropsQueuedMail) {
  SetUndo(0);
  std::string id = Send({"defer3@example.com"}, "Stuck");
  WaitForState(id, "defer3@example.com", "deferred");
  std::string doomed = Send({"defer4@example.com"}, "Doomed");
  WaitForState(doomed, "defer4@example.com", "deferred");

  // Alice is no admin: the server refuses her, whatever the page shows.
  LogIn("alice-console", "alice", MailSystem::kAlicePassword, http_port_);
  EXPECT_EQ(Api("alice-console", "GET", "/api/admin/queue", nullptr, http_port_).status, 403);
  EXPECT_EQ(Api("alice-console", "DELETE", "/api/admin/queue/x", nullptr, http_port_).status, 403);

  LogIn("admin", "admin", kAdminPassword, http_port_);
  Answer page = Api("admin", "GET", "/api/admin/queue?limit=1", nullptr, http_port_);
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.body["messages"].size(), 1u);
  json first = page.body["messages"][0];
  EXPECT_EQ(first["sender"], "alice@penncloud.local");
  EXPECT_EQ(first["recipients"], json::array({"defer3@example.com"}));
  EXPECT_EQ(first["attempts"], 1);
  EXPECT_THAT(first.value("last_error", ""), HasSubstr("451"));
  EXPECT_TRUE(first.contains("next_retry") && first.contains("age_s"));
  ASSERT_TRUE(page.body["next"].is_string());
  Answer rest =
      Api("admin", "GET", "/api/admin/queue?limit=1&after=" + page.body["next"].get<std::string>(),
          nullptr, http_port_);
  ASSERT_EQ(rest.body["messages"].size(), 1u);
  EXPECT_EQ(rest.body["messages"][0]["recipients"][0], "defer4@example.com");
  EXPECT_EQ(Api("admin", "GET", "/api/admin/queue?limit=0", nullptr, http_port_).status, 400);

  // Retry now delivers once the remote takes it; drop removes the other for good.
  std::ofstream(remote_dir_ + "/open") << "";
  Answer retried =
      Api("admin", "POST", "/api/admin/queue/" + first["id"].get<std::string>() + "/retry", nullptr,
          http_port_);
  EXPECT_EQ(retried.status, 200) << retried.body;
  WaitForState(id, "defer3@example.com", "accepted");
  std::string doomed_queue_id = rest.body["messages"][0]["id"];
  Answer dropped =
      Api("admin", "DELETE", "/api/admin/queue/" + doomed_queue_id, nullptr, http_port_);
  EXPECT_EQ(dropped.status, 200) << dropped.body;
  EXPECT_EQ(Line(Timeline(doomed), "defer4@example.com")["state"], "cancelled");
  EXPECT_EQ(
      Api("admin", "DELETE", "/api/admin/queue/" + doomed_queue_id, nullptr, http_port_).status,
      404);
  EXPECT_TRUE(
      Api("admin", "GET", "/api/admin/queue", nullptr, http_port_).body["messages"].empty());
  EXPECT_EQ(RemoteCount(), 1);
  EXPECT_EQ(Count("alice", "inbox", "Undelivered"), 0);  // dropped, not bounced
}

TEST_F(MailDeliveryTest, AnApiSendThatOffersNoUndoIsNotHeld) {
  SetUndo(30);
  Answer a = Api("alice", "POST", "/api/mail",
                 {{"to", {"bob"}}, {"subject", "Right away"}, {"body", "hi"}});
  ASSERT_EQ(a.status, 201) << a.body;
  json t = Timeline(a.body.value("id", ""));
  EXPECT_FALSE(t.contains("undo_until")) << t.dump();
  EXPECT_EQ(Line(t, "bob@penncloud.local")["state"], "delivered");
  EXPECT_EQ(Count("bob", "inbox", "Right away"), 1);
  EXPECT_EQ(Api("alice", "POST", "/api/mail",
                {{"to", {"bob"}}, {"subject", "x"}, {"body", "hi"}, {"undo", "yes"}})
                .status,
            400);
}

TEST_F(MailDeliveryTest, UndoWithinTheWindowKeepsEverythingBack) {
  SetUndo(4);
  std::string id = Send({"bob", "ok5@example.com"}, "Second thoughts");
  json t = Timeline(id);
  EXPECT_TRUE(t.contains("undo_until")) << t.dump();
  EXPECT_EQ(Line(t, "bob@penncloud.local")["state"], "queued");
  Answer undone = Api("alice", "POST", "/api/mail/" + id + "/undo");
  ASSERT_EQ(undone.status, 200) << undone.body;
  Answer drafts = Api("alice", "GET", "/api/mail?folder=drafts");
  ASSERT_EQ(drafts.body["messages"].size(), 1u) << drafts.body;
  EXPECT_EQ(drafts.body["messages"][0]["subject"], "Second thoughts");
  EXPECT_EQ(Count("alice", "sent", "Second thoughts"), 0);
  EXPECT_EQ(Api("alice", "POST", "/api/mail/" + id + "/undo").status, 404);  // not in Sent now

  // A later message goes out when its window ends; undo is then refused.
  std::string later = Send({"bob", "ok6@example.com"}, "Sure now");
  WaitForState(later, "ok6@example.com", "accepted");
  EXPECT_EQ(Line(Timeline(later), "bob@penncloud.local")["state"], "delivered");
  Answer late = Api("alice", "POST", "/api/mail/" + later + "/undo");
  EXPECT_EQ(late.status, 409) << late.body;
  EXPECT_THAT(late.body.value("error", ""), HasSubstr("too late"));
  // The undone one never left, though its window has long passed.
  EXPECT_EQ(Count("bob", "inbox", "Second thoughts"), 0);
  EXPECT_EQ(Count("bob", "inbox", "Sure now"), 1);
  EXPECT_EQ(RemoteCount(), 1);
}

TEST_F(MailDeliveryTest, HeldMailGoesOutOnceAfterTheFrontendDies) {
  SetUndo(3);
  std::string id = Send({"bob", "ok7@example.com"}, "Orphaned");
  frontend_.Kill();  // SIGKILL inside the undo window
  ASSERT_EQ(Count("bob", "inbox", "Orphaned"), 0);
  ASSERT_TRUE(Eventually([&] {
    return RemoteCount() == 1 && Count("bob", "inbox", "Orphaned") == 1;
  })) << "remote "
      << RemoteCount() << ", bob " << Count("bob", "inbox", "Orphaned");
  // Once, not again: the queue empties (the sender dequeues just after the remote says yes)
  // and the timeline is done.
  mail::OutboundQueue queue(sys_->kvs());
  EXPECT_TRUE(Eventually([&] {
    auto left = queue.ListAll();
    return left.ok() && left->empty();
  }));
  ASSERT_TRUE(StartFrontend().ok());
  LogIn("alice2", "alice", MailSystem::kAlicePassword, frontend_port_);
  Answer t = Api("alice2", "GET", "/api/mail/" + id + "/delivery");
  EXPECT_EQ(Line(t.body, "ok7@example.com")["state"], "accepted") << t.body;
  EXPECT_EQ(Line(t.body, "bob@penncloud.local")["state"], "delivered") << t.body;
  EXPECT_EQ(RemoteCount(), 1);
  EXPECT_EQ(Count("bob", "inbox", "Orphaned"), 1);
}

}  // namespace
}  // namespace penncloud::testing
