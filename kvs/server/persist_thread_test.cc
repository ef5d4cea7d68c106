// PersistThread (persist_thread.h): a write overlaps the loop's polling while calls keep
// arriving during writes, runs on the polling thread once one went by with nothing
// arriving, and goes back to overlapping as soon as something arrives during an inline one.
#include "kvs/server/persist_thread.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "grpcpp/alarm.h"
#include "kvs/server/loop_queue.h"

namespace penncloud::kvs::server {
namespace {

// Stands for a call that arrives while the write runs: an alarm that fires at once.
class Arrival final : public LoopTag {
 public:
  void Arrive(LoopQueue& queue) { alarm_.Set(queue.cq(), gpr_inf_past(GPR_CLOCK_MONOTONIC), this); }
  void Proceed(bool) override { ++taken; }
  int taken = 0;

 private:
  grpc::Alarm alarm_;
};

class PersistThreadTest : public ::testing::Test {
 protected:
  PersistThreadTest() {
    grpc::ServerBuilder builder;
    queue_ = std::make_unique<LoopQueue>(builder.AddCompletionQueue());
    persist_ = std::make_unique<PersistThread>(*queue_);
  }
  ~PersistThreadTest() override {
    persist_.reset();
    queue_->Close();
    queue_->DrainClosed();
  }
  // Runs one write; `arrive` makes a call arrive during it. Answers whether the write ran
  // on a thread other than this one.
  bool Write(bool arrive) {
    const std::thread::id polling = std::this_thread::get_id();
    std::thread::id ran;
    const int taken = arrival_.taken;
    persist_->Run([&] {
      ran = std::this_thread::get_id();
      if (arrive) arrival_.Arrive(*queue_);
    });
    // Whatever arrived was taken in before Run returned.
    EXPECT_EQ(arrival_.taken, taken + (arrive ? 1 : 0));
    return ran != polling;
  }

  std::unique_ptr<LoopQueue> queue_;
  std::unique_ptr<PersistThread> persist_;
  Arrival arrival_;
};

TEST_F(PersistThreadTest, OverlapsOnlyWhileSomethingArrivesDuringTheWrites) {
  EXPECT_TRUE(persist_->overlapping());
  EXPECT_TRUE(Write(/*arrive=*/true));
  EXPECT_TRUE(persist_->overlapping());
  EXPECT_TRUE(Write(/*arrive=*/false));  // still overlapped: the one before had an arrival
  EXPECT_FALSE(persist_->overlapping());
  EXPECT_FALSE(Write(/*arrive=*/false));  // on the polling thread
  EXPECT_FALSE(Write(/*arrive=*/false));
  EXPECT_FALSE(Write(/*arrive=*/true));  // inline, and the arrival is taken in after it
  EXPECT_TRUE(persist_->overlapping());
  EXPECT_TRUE(Write(/*arrive=*/false));
}

}  // namespace
}  // namespace penncloud::kvs::server
