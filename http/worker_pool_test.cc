#include "http/worker_pool.h"

#include <atomic>
#include <future>

#include "gtest/gtest.h"

namespace penncloud::http {
namespace {

using std::chrono::milliseconds;

TEST(WorkerPoolTest, RunsEverythingItAccepts) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(4, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.Submit([&ran] { ++ran; }));
  }  // the destructor runs what is queued
  EXPECT_EQ(ran, 500);
}

TEST(WorkerPoolTest, RefusesBeyondTheLengthBound) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  WorkerPool pool(1, 2, milliseconds(60'000));
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&started, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the worker is busy; the next tasks queue
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_FALSE(pool.Submit([] {}));
  EXPECT_EQ(pool.refused(), 1);
  release.set_value();
}

TEST(WorkerPoolTest, RefusesWhileTheOldestTaskWaitedTooLongThenRecovers) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  WorkerPool pool(1, 1000, milliseconds(50));
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&started, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.Submit([&ran] { ++ran; }));  // queued, young
  EXPECT_TRUE(pool.Submit([&ran] { ++ran; }));
  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_FALSE(pool.Submit([&ran] { ++ran; }));  // the head waited 120 ms > 50 ms
  EXPECT_EQ(pool.refused(), 1);

  release.set_value();
  for (int i = 0; i < 200 && ran < 2; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ran, 2);  // what was accepted still runs
  std::promise<void> done;
  EXPECT_TRUE(pool.Submit([&done] { done.set_value(); }));  // caught up: accepting again
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

}  // namespace
}  // namespace penncloud::http
