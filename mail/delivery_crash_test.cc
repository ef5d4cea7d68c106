// Crashes in the middle of sending: a client that "dies" at its k-th write (every later call
// fails, as if the process were killed there; the k-th write itself either takes effect or
// not, both are tried), for every k through a webmail send, an authenticated SMTP
// submission and the release of a held send. After the restart (a relay over what was
// written, once the dead process's lease has run out), no Sent message may still wait
// ("queued", or an entry that never finishes), and no local recipient may hold two copies.
#include <atomic>
#include <map>
#include <memory>

#include "gtest/gtest.h"
#include "kvs/client/dying_client.h"
#include "kvs/client/memory_client.h"
#include "mail/delivery.h"
#include "mail/delivery_intent.h"
#include "mail/relay.h"

namespace penncloud::mail {
namespace {

constexpr char kSource[] =
    "From: alice@penncloud.local\r\nTo: bob@penncloud.local, carol@penncloud.local, "
    "far@example.com\r\nSubject: plans\r\nMessage-ID: <plans-1@penncloud.local>\r\n\r\nhello\r\n";
constexpr int64_t kHoldMicros = 5'000'000;
constexpr int kMaxWrites = 200;  // more than any one send or release takes

// One process's view of the store: a queue, a mailbox store, timelines and a relay.
struct Node {
  Node(kvs::Client& kvs, const std::function<int64_t()>& clock,
       std::map<std::string, int>& remote_copies)
      : queue(kvs, clock),
        store(kvs, clock),
        timelines(kvs),
        relay(
            queue, store, Options(),
            [&remote_copies](const std::string&, int, const std::string&,
                             const std::vector<std::string>& recipients, const std::string&) {
              std::vector<RecipientResult> out;
              for (const auto& r : recipients) {
                ++remote_copies[r];
                out.push_back({r, RecipientOutcome::kDelivered, "250 2.0.0 ok"});
              }
              return out;
            },
            clock) {}
  static RelayOptions Options() {
    RelayOptions o;
    o.smarthost_host = "remote.example";
    return o;
  }
  OutboundQueue queue;
  MailStore store;
  DeliveryStatusStore timelines;
  Relay relay;
};

class DeliveryCrashTest : public ::testing::TestWithParam<bool> {
 protected:
  std::function<int64_t()> Clock() {
    return [this] { return now_.load(); };
  }

  // A new process over what the dead one left, after its leases ran out: its relay passes
  // until the queue is empty (bounded).
  void Recover() {
    now_ += RelayOptions().lease_micros + kHoldMicros + 1'000'000;
    Node fresh(*disk_, Clock(), remote_copies_);
    for (int pass = 0; pass < 5 && !fresh.queue.ListAll()->empty(); ++pass) {
      fresh.relay.RunOnce();
      now_ += 1'000'000;
    }
    EXPECT_TRUE(fresh.queue.ListAll()->empty());
  }

  size_t Copies(const std::string& user, std::string_view folder) {
    Node view(*disk_, Clock(), remote_copies_);
    return view.store.ListAll(user, folder)->size();
  }

  // Whatever the crash: the send either left no trace, or it went out in full with one
  // Sent copy whose timeline has every recipient's result and waits for nothing.
  void ExpectWholeOrNothing(const std::vector<std::string>& local, bool locals_exact,
                            bool remote = true) {
    size_t sent = Copies("alice", kSent);
    ASSERT_LE(sent, 1u);
    if (sent == 0) {
      EXPECT_EQ(remote_copies_["far@example.com"], 0);
      for (const auto& user : local) EXPECT_EQ(Copies(user, kInbox), 0u) << user;
      return;
    }
    EXPECT_EQ(remote_copies_["far@example.com"], remote ? 1 : 0);
    for (const auto& user : local) {
      if (locals_exact) {
        EXPECT_EQ(Copies(user, kInbox), 1u) << user;
      } else {
        EXPECT_LE(Copies(user, kInbox), 1u) << user;
      }
    }
    Node view(*disk_, Clock(), remote_copies_);
    auto id = view.store.ListAll("alice", kSent)->front().id();
    auto timeline = view.timelines.Load("alice", id);
    ASSERT_TRUE(timeline.ok()) << timeline.status();
    EXPECT_TRUE(timeline->queue_id().empty());
    for (const auto& r : timeline->recipients()) {
      EXPECT_TRUE(r.state() == kDelivered || r.state() == kAccepted) << r.address() << r.state();
    }
  }

  static pb::QueuedMessage WebmailEntry() {
    pb::QueuedMessage e;
    e.set_sender("alice@penncloud.local");
    e.set_user("alice");
    e.add_recipients("far@example.com");
    e.add_local_recipients("bob@penncloud.local");
    e.add_local_recipients("carol@penncloud.local");
    return e;
  }

  // Runs `step` through a client that dies at write k, for every k until a run completes
  // without dying, each from a fresh store prepared by `setup`; `check` follows each run.
  void ForEveryCrashPoint(const std::function<void()>& setup,
                          const std::function<void(kvs::Client&)>& step,
                          const std::function<void()>& check) {
    for (int k = 1; k <= kMaxWrites; ++k) {
      SCOPED_TRACE(testing::Message() << "crash at write " << k);
      disk_ = std::make_unique<kvs::MemoryClient>();
      remote_copies_.clear();
      setup();
      kvs::DyingClient dying(*disk_, k, GetParam());
      step(dying);
      check();
      if (HasFailure() || !dying.died()) return;
    }
    ADD_FAILURE() << "still dying after " << kMaxWrites << " writes";
  }

  std::atomic<int64_t> now_{1'000'000'000'000'000};
  std::unique_ptr<kvs::MemoryClient> disk_;
  std::map<std::string, int> remote_copies_;
};

TEST_P(DeliveryCrashTest, AWebmailSendWithoutUndoIsWholeOrNothing) {
  ForEveryCrashPoint([] {},
                     [&](kvs::Client& dying) {
                       Node node(dying, Clock(), remote_copies_);
                       (void)Send(node.queue, node.store, node.timelines, WebmailEntry(), kSource,
                                  0);
                     },
                     [&] {
                       Recover();
                       ExpectWholeOrNothing({"bob", "carol"}, true);
                     });
}

// The common webmail send: local recipients only, so the sender itself removes the
// record at the end, and a crash before that leaves the record to a runner.
TEST_P(DeliveryCrashTest, AWebmailSendToLocalUsersOnlyIsWholeOrNothing) {
  ForEveryCrashPoint([] {},
                     [&](kvs::Client& dying) {
                       Node node(dying, Clock(), remote_copies_);
                       pb::QueuedMessage entry = WebmailEntry();
                       entry.clear_recipients();
                       (void)Send(node.queue, node.store, node.timelines, entry, kSource, 0);
                     },
                     [&] {
                       Recover();
                       ExpectWholeOrNothing({"bob", "carol"}, true, /*remote=*/false);
                     });
}

TEST_P(DeliveryCrashTest, AHeldWebmailSendIsWholeOrNothing) {
  ForEveryCrashPoint([] {},
                     [&](kvs::Client& dying) {
                       Node node(dying, Clock(), remote_copies_);
                       (void)Send(node.queue, node.store, node.timelines, WebmailEntry(), kSource,
                                  kHoldMicros);
                     },
                     [&] {
                       Recover();
                       ExpectWholeOrNothing({"bob", "carol"}, true);
                     });
}

TEST_P(DeliveryCrashTest, AReleaseThatDiesGivesNobodyASecondCopy) {
  ForEveryCrashPoint(
      [&] {
        Node node(*disk_, Clock(), remote_copies_);
        ASSERT_TRUE(
            Send(node.queue, node.store, node.timelines, WebmailEntry(), kSource, kHoldMicros)
                .ok());
        now_ += kHoldMicros;
      },
      [&](kvs::Client& dying) {
        Node node(dying, Clock(), remote_copies_);
        node.relay.RunOnce();
      },
      [&] {
        // The remote copy may go twice (a crash after the remote's 250 and before the
        // entry is removed: delivery is at least once); local copies never do.
        int far = remote_copies_["far@example.com"];
        Recover();
        EXPECT_EQ(Copies("alice", kSent), 1u);
        EXPECT_EQ(Copies("bob", kInbox), 1u);
        EXPECT_EQ(Copies("carol", kInbox), 1u);
        EXPECT_GE(remote_copies_["far@example.com"], 1);
        EXPECT_LE(remote_copies_["far@example.com"], far + 1);
      });
}

TEST_P(DeliveryCrashTest, AnSmtpSubmissionLeavesNoSentMessageWaiting) {
  ForEveryCrashPoint(
      [] {},
      [&](kvs::Client& dying) {
        Node node(dying, Clock(), remote_copies_);
        Delivery delivery(
            node.store, node.queue, "penncloud.local",
            [](std::string_view user, std::string_view) { return std::string(user); },
            [](std::string_view) { return true; });
        Envelope envelope;
        envelope.sender = "alice@penncloud.local";
        envelope.recipients = {"bob@penncloud.local", "far@example.com"};
        envelope.authenticated_user = "alice";
        (void)delivery.Deliver(envelope, kSource);
      },
      [&] {
        Recover();
        // The SMTP client was not told 250 and sends again, which is what delivers to bob
        // if the crash came first; the relay cannot know of him.
        ExpectWholeOrNothing({"bob"}, false);
      });
}

INSTANTIATE_TEST_SUITE_P(LastWrite, DeliveryCrashTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Applied" : "Lost"; });

}  // namespace
}  // namespace penncloud::mail
