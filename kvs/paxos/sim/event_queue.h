// The simulators' time line: what can happen at a simulated instant, and the queue that
// hands events out in time order (ties in the order they were scheduled, so a run is a
// function of its seed alone).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "kvs/paxos/node.h"

namespace penncloud::paxos::sim {

constexpr int64_t kTick = 10;  // time units per tick

enum class EventType {
  kDeliver,           // a peer message reaches replica `node`
  kTick,              // replica `node`'s clock ticks (token: its epoch)
  kReady,             // replica `node` takes its Ready (token: its epoch)
  kRequest,           // a caller's request reaches replica `node`
  kReply,             // a replica's answer reaches caller `node`
  kTimer,             // caller `node`'s timer (token: the caller's timer count)
  kRestart,           // crashed replica `node` restarts (token: its epoch)
  kHealPartition,     // the partition numbered `token` ends
  kFault,             // the next round of fault injection
  kHeal,              // every fault ends
  kRebalancerRestart  // multi-group mode only
};

template <class Machine, class Request, class Reply>
struct Event {
  int64_t time = 0;
  uint64_t order = 0;
  EventType type = EventType::kTick;
  int node = 0;  // a replica index or a caller index, by type
  uint64_t token = 0;
  Message msg;
  std::shared_ptr<const Machine> snapshot_data;  // with a MSG_SNAPSHOT
  bool garbage = false;                          // made by the garbage sender, not by a core
  bool must_drop = false;                        // garbage the receiving core must drop
  bool forged_sender = false;                    // garbage from an id no replica has
  Request request;
  Reply reply;
};

template <class E>
class EventQueue {
 public:
  E& Schedule(int64_t at, EventType type, int node) {
    auto e = std::make_unique<E>();
    e->time = at;
    e->order = next_order_++;
    e->type = type;
    e->node = node;
    E& ref = *e;
    heap_.push_back(std::move(e));
    std::push_heap(heap_.begin(), heap_.end(), Later);
    return ref;
  }
  bool empty() const { return heap_.empty(); }
  // The time of the earliest event; the queue must not be empty.
  int64_t next_time() const { return heap_.front()->time; }
  // The earliest event; the queue must not be empty.
  std::unique_ptr<E> Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    std::unique_ptr<E> e = std::move(heap_.back());
    heap_.pop_back();
    return e;
  }

 private:
  static bool Later(const std::unique_ptr<E>& a, const std::unique_ptr<E>& b) {
    return std::tie(a->time, a->order) > std::tie(b->time, b->order);
  }

  uint64_t next_order_ = 0;
  std::vector<std::unique_ptr<E>> heap_;
};

}  // namespace penncloud::paxos::sim
