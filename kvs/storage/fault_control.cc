#include "kvs/storage/fault_control.h"

#include <chrono>
#include <fstream>
#include <set>
#include <utility>

namespace penncloud::kvs::storage {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(5);
constexpr size_t kMaxWords = 16;  // the file is ours to write, but stays a bounded read

}  // namespace

FaultControl::FaultControl(std::string path, std::shared_ptr<FaultFileSystem> fs)
    : path_(std::move(path)), fs_(std::move(fs)) {
  Poll();
  watcher_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, kPollEvery, [this] { return stop_; })) {
      lock.unlock();
      Poll();
      lock.lock();
    }
  });
}

FaultControl::~FaultControl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watcher_.join();
}

void FaultControl::Poll() {
  std::set<std::string> words;
  std::ifstream in(path_);
  std::string word;
  std::string text;
  while (words.size() < kMaxWords && in >> word) {
    words.insert(word);
    text += word + " ";
  }
  if (words.contains("crash")) fs_->CrashProcess(kCrashExitCode);
  fs_->SetFaults(DiskFaults{.sync_fails = words.contains("sync_fails"),
                            .no_space = words.contains("no_space")});
  if (text == seen_) return;
  seen_ = text;
  // Outside the faulty file system on purpose: the test's side channel, not replica data.
  std::ofstream(path_ + ".seen", std::ios::trunc) << text << "\n";
}

}  // namespace penncloud::kvs::storage
