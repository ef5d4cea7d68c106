// storage_amp_writer: writes a fixed amount of user data of the drive's and the mail's
// shapes into one replica group, for stress_test/storage_amp_bench.sh (issue 22, storage
// amplification). Deterministic for a given --size and --seed: the same rows, columns and
// bytes every run.
//
// Nine tenths of the bytes are files cut into the drive's 1 MiB chunks (row
// drive/<user>/chunk/<version>/<i>, column "d", incompressible bytes, as photos and
// archives are); the rest is mail: a body of 2..16 KiB of letters and spaces and a 200-byte
// header record per message. Every value counts as user data; keys do not.
//
// With --rewrites=N the same data is written N times over (an overwrite workload).
//
//   storage_amp_writer --kvs=127.0.0.1:27421,... --size=1073741824
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "kvs/client/connect.h"

ABSL_FLAG(std::string, kvs, "", "The group's client addresses, comma-separated.");
ABSL_FLAG(uint64_t, size, 1ull << 30, "User bytes to write (values only).");
ABSL_FLAG(int, threads, 2,
          "Writes in flight at once (the drive uploads a file one chunk after another).");
ABSL_FLAG(int, rewrites, 1, "Write the same data this many times.");
ABSL_FLAG(uint64_t, seed, 22, "Seed of every size and byte.");

namespace {

constexpr uint64_t kChunkBytes = 1 << 20;  // the drive's chunk size (drive/drive.h)
constexpr uint64_t kHeaderBytes = 200;
constexpr int kAttempts = 6;

struct Cell {
  std::string row;
  std::string column;
  uint64_t bytes = 0;
  bool text = false;  // mail-like (compressible) rather than file-like bytes
};

// The cells to write, in order: files (1..8 MiB, the last chunk partial) until 90% of the
// size, then messages until the size.
std::vector<Cell> Plan(uint64_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Cell> cells;
  const uint64_t file_budget = size / 10 * 9;
  uint64_t planned = 0;
  for (uint64_t file = 0; planned < file_budget; ++file) {
    uint64_t file_bytes = std::min<uint64_t>(
        std::uniform_int_distribution<uint64_t>(64 << 10, 8 << 20)(rng), file_budget - planned);
    const std::string user = absl::StrCat("user", file % 16);
    for (uint64_t i = 0; file_bytes > 0; ++i) {
      const uint64_t n = std::min(file_bytes, kChunkBytes);
      cells.push_back({absl::StrCat("drive/", user, "/chunk/f", file, "/", i), "d", n, false});
      file_bytes -= n;
      planned += n;
    }
  }
  for (uint64_t m = 0; planned < size; ++m) {
    const std::string row = absl::StrCat("mail/user", m % 16, "/inbox");
    const uint64_t body = std::min<uint64_t>(
        std::uniform_int_distribution<uint64_t>(2 << 10, 16 << 10)(rng), size - planned);
    cells.push_back({absl::StrCat(row, "/body"), absl::StrCat("m", m), body, true});
    planned += body;
    const uint64_t header = std::min(kHeaderBytes, size - planned);
    if (header > 0) cells.push_back({row, absl::StrCat("m", m), header, true});
    planned += header;
  }
  return cells;
}

// The bytes of cell `index`: uniform random for files (photos, archives), letters and
// spaces for mail.
std::string Value(const Cell& cell, uint64_t seed, uint64_t index) {
  std::mt19937_64 rng(seed ^ (index * 0x9e3779b97f4a7c15ull));
  std::string value;
  value.reserve(cell.bytes + 16);
  if (!cell.text) {
    while (value.size() < cell.bytes) {
      const uint64_t word = rng();
      value.append(reinterpret_cast<const char*>(&word), sizeof(word));
    }
  } else {
    // Words of 1..10 random letters: as little to find for a compressor as real mail text
    // has at most (no repeated phrases), so compression flatters nothing.
    while (value.size() < cell.bytes) {
      for (uint64_t n = 1 + rng() % 10; n > 0; --n)
        value.push_back(static_cast<char>('a' + rng() % 26));
      value.push_back(rng() % 12 == 0 ? '\n' : ' ');
    }
  }
  value.resize(cell.bytes);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes --size bytes of drive-chunk and mail-shaped values into one replica group.");
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = penncloud::tls::InitProcess("storage-amp",
                                                   penncloud::tls::Identity::Admin("storage-amp"));
      !s.ok()) {
    std::cerr << "storage_amp_writer: " << s.message() << "\n";
    return 2;
  }
  auto client = penncloud::kvs::Connect(absl::GetFlag(FLAGS_kvs));
  if (!client.ok()) {
    std::cerr << "storage_amp_writer: " << client.status() << "\n";
    return 2;
  }
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const std::vector<Cell> cells = Plan(absl::GetFlag(FLAGS_size), seed);
  const int threads = std::clamp(absl::GetFlag(FLAGS_threads), 1, 256);
  const int rewrites = std::max(1, absl::GetFlag(FLAGS_rewrites));
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> written{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  const uint64_t total = cells.size() * static_cast<uint64_t>(rewrites);
  auto work = [&] {
    for (uint64_t i = next++; i < total && !failed; i = next++) {
      const Cell& cell = cells[i % cells.size()];
      // A rewrite changes the bytes (a new version of the file).
      const std::string value = Value(cell, seed + i / cells.size(), i % cells.size());
      // A put is the same value every attempt, so retrying one that timed out (a busy
      // shared machine can stall the group past the client's deadline) changes nothing.
      absl::Status s;
      for (int attempt = 0; attempt < kAttempts; ++attempt) {
        s = (*client)->Put(cell.row, cell.column, value);
        if (s.ok() || !absl::IsUnavailable(s)) break;
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        std::cerr << "storage_amp_writer: put " << cell.row << ": " << s << "\n";
        failed = true;
        return;
      }
      written += cell.bytes;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  if (failed) return 1;
  uint64_t live = 0;
  for (const Cell& cell : cells) live += cell.bytes;
  // `live` is what the group holds at the end; `written` counts every rewrite.
  std::cout << "cells " << cells.size() << " user_bytes " << live << " written_bytes "
            << written.load() << "\n";
  return 0;
}
