// The Ready driver's order (ready_driver.h) on real cores: a leader's own ACCEPTs leave
// before its persist, every other message after it, entries committed together with their
// arrival are applied after the persist, a follower applies after its ACCEPTEDs leave, and
// a hook that stops ends the Ready there.
#include "kvs/paxos/ready_driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace penncloud::paxos {
namespace {

// Records what the driver does, as "persist", "send <type>", "apply <slot>", "read".
class Recorder final : public ReadyHooks {
 public:
  bool InstallSnapshot(const SnapshotMeta&) override { return Log("snapshot"); }
  bool Persist(const std::vector<EntryPtr>& entries, const std::optional<HardState>&) override {
    for (const EntryPtr& e : entries) persisted_at.emplace(e->slot(), events.size());
    return Log("persist");
  }
  bool Send(Message m) override {
    const bool go = Log("send " + std::to_string(m.type()));
    outbox.push_back(std::move(m));
    return go;
  }
  bool Apply(const Entry& e) override { return Log("apply " + std::to_string(e.slot())); }
  bool ReleaseRead(const ReadState&) override { return Log("read"); }
  void FailRead(uint64_t) override { Log("failed read"); }
  void Dropped(const std::string&) override { Log("dropped"); }

  std::vector<std::string> events;
  std::vector<Message> outbox;
  std::map<Slot, size_t> persisted_at;  // slot -> index of the persist event that wrote it
  std::string stop_at;                  // the first event for which a hook answers false

 private:
  bool Log(const std::string& what) {
    events.push_back(what);
    return what != stop_at;
  }
};

class Group {
 public:
  explicit Group(int n) {
    Membership members;
    for (int i = 1; i <= n; ++i) members.add_voters(i);
    members.set_window(4);
    for (int i = 1; i <= n; ++i) {
      Config c;
      c.id = i;
      c.seed = i * 7919;
      PersistentState st;
      *st.snapshot.mutable_config()->mutable_current() = members;
      nodes_[i] = std::make_unique<Node>(c, std::move(st));
    }
  }
  Node& node(NodeId id) { return *nodes_[id]; }
  Recorder& hooks(NodeId id) { return hooks_[id]; }
  // Handles Readies and delivers messages until quiet.
  void Settle() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& [id, n] : nodes_) {
        while (n->HasReady()) {
          any = true;
          HandleReady(*n, id, hooks_[id]);
        }
      }
      for (auto& [id, h] : hooks_) {
        std::vector<Message> out;
        out.swap(h.outbox);
        for (Message& m : out) {
          any = true;
          nodes_[m.to()]->Step(std::move(m));
        }
      }
      if (!any) return;
    }
  }
  NodeId Elect() {
    for (int t = 0; t < 200; ++t) {
      for (auto& [id, n] : nodes_) n->Tick();
      Settle();
      for (auto& [id, n] : nodes_) {
        if (n->is_leader()) return id;
      }
    }
    return 0;
  }
  void Tick(int n) {
    for (int t = 0; t < n; ++t) {
      for (auto& [id, node] : nodes_) node->Tick();
      Settle();
    }
  }
  void ClearEvents() {
    for (auto& [id, h] : hooks_) h.events.clear();
  }

 private:
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::map<NodeId, Recorder> hooks_;
};

size_t IndexOf(const std::vector<std::string>& events, const std::string& what) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i] == what) return i;
  }
  return events.size();
}

TEST(ReadyDriverTest, TheLeadersOwnAcceptsLeaveBeforeItsPersistAndTheRestAfter) {
  Group g(3);
  const NodeId leader = g.Elect();
  ASSERT_NE(leader, 0u);
  g.ClearEvents();
  ASSERT_TRUE(g.node(leader).Propose("x").ok());
  // Only the leader's Ready with the new entry.
  ASSERT_TRUE(g.node(leader).HasReady());
  HandleReady(g.node(leader), leader, g.hooks(leader));
  const std::vector<std::string>& events = g.hooks(leader).events;
  const size_t accept = IndexOf(events, "send " + std::to_string(MSG_ACCEPT));
  const size_t persist = IndexOf(events, "persist");
  ASSERT_LT(persist, events.size()) << "the entry was never persisted";
  EXPECT_LT(accept, persist);
  // A follower acknowledges only after its own persist.
  g.Settle();
  const NodeId follower = leader % 3 + 1;
  const std::vector<std::string>& f = g.hooks(follower).events;
  const size_t accepted = IndexOf(f, "send " + std::to_string(MSG_ACCEPTED));
  ASSERT_LT(accepted, f.size());
  EXPECT_LT(IndexOf(f, "persist"), accepted);
}

TEST(ReadyDriverTest, AnEntryIsAppliedOnlyOnceItIsOnDisk) {
  Group g(3);
  const NodeId leader = g.Elect();
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(g.node(leader).Propose("v" + std::to_string(i)).ok());
    g.Settle();
  }
  g.Tick(20);  // heartbeats carry the last commit to the followers
  for (NodeId id = 1; id <= 3; ++id) {
    // Every apply comes after the persist that wrote its slot.
    const Recorder& h = g.hooks(id);
    Slot highest = 0;
    for (size_t k = 0; k < h.events.size(); ++k) {
      if (h.events[k].rfind("apply ", 0) != 0) continue;
      const Slot slot = std::stoull(h.events[k].substr(6));
      highest = std::max(highest, slot);
      auto written = h.persisted_at.find(slot);
      ASSERT_NE(written, h.persisted_at.end()) << "replica " << id << " slot " << slot;
      EXPECT_LT(written->second, k)
          << "replica " << id << " applied slot " << slot << " before persisting it";
    }
    EXPECT_GE(highest, 5u) << "replica " << id;
  }
}

TEST(ReadyDriverTest, AFollowerAppliesAfterItsAcceptedsLeave) {
  Group g(3);
  const NodeId leader = g.Elect();
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(g.node(leader).Propose("a").ok());
  g.Settle();
  g.ClearEvents();
  // The next ACCEPT carries slot 1's commit: the follower's Ready persists slot 2 and
  // applies slot 1, and its ACCEPTED for slot 2 must not wait for that apply.
  ASSERT_TRUE(g.node(leader).Propose("b").ok());
  g.Settle();
  const NodeId follower = leader % 3 + 1;
  const std::vector<std::string>& f = g.hooks(follower).events;
  const size_t accepted = IndexOf(f, "send " + std::to_string(MSG_ACCEPTED));
  ASSERT_LT(accepted, f.size());
  size_t apply = f.size();
  for (size_t k = 0; k < f.size(); ++k) {
    if (f[k].rfind("apply ", 0) == 0) {
      apply = k;
      break;
    }
  }
  ASSERT_LT(apply, f.size()) << "the follower applied nothing";
  EXPECT_LT(accepted, apply);
}

TEST(ReadyDriverTest, AHookThatStopsEndsTheReadyWithoutAdvance) {
  Group g(1);
  ASSERT_EQ(g.Elect(), 1u);
  g.ClearEvents();
  ASSERT_TRUE(g.node(1).Propose("x").ok());
  g.hooks(1).stop_at = "persist";  // a crash in the middle of the Ready
  EXPECT_FALSE(HandleReady(g.node(1), 1, g.hooks(1)));
  EXPECT_EQ(g.hooks(1).events.back(), "persist");  // nothing after the stop
}

}  // namespace
}  // namespace penncloud::paxos
