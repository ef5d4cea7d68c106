// The user simulator: thousands of simulated webmail/drive users driven by one io_context
// per thread (coroutines, no thread per user) through the coordinator at :8000, ramping
// through levels of concurrent users, each visit on a schedule with think time.
//
// A user's visit, repeated until its level ends: list the inbox, read a message, send one
// to a neighbour, list the drive, upload its small file, download it and compare the bytes.
// Users share a pool of accounts (`accounts`): each account signs up (or logs in when it
// exists) once, and its users share that browser session (cookie + CSRF token), because an
// Argon2id login costs ~35 ms of CPU and 10,000 of them would be the whole experiment.
// `login_per_user` makes every user log in itself instead.
//
// `steps` narrows the visit to some step kinds (one at a time, to measure what each costs).
// A user whose steps read mail without listing the inbox lists it once first, and one that
// downloads without uploading uploads once first; a level starts measuring only once every
// user has done that (or one request timeout passed).
//
// Several entry points (coordinators) can be given: users are spread over them, and a user
// whose request fails below HTTP (refused, reset, timed out) moves to the next one, as a
// browser tries the next address of a name.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "stress_test/user_sim/recorder.h"
#include "stress_test/user_sim/server_cpu.h"

namespace penncloud::sim {

struct Target {
  std::string host;
  int port;
};

struct SimOptions {
  std::vector<Target> targets = {{"127.0.0.1", 8000}};  // the coordinators' HTTP addresses
  int threads = 0;                                      // 0: one per core
  std::vector<int> levels = {100};                      // concurrent users, one level after another
  std::chrono::milliseconds stage{10000};               // measured time per level, after its ramp
  double ramp_per_s = 1000;                             // new users per second when a level starts
  std::chrono::milliseconds think{1000};  // mean of an exponential pause between steps
  double rate = 0;         // >0: offered steps/s in all; sets think = users / rate, open loop
  bool open_loop = false;  // steps keep their schedule however slow the answers are
  int accounts = 50;
  std::string prefix = "sim";
  std::string password = "sim-password-1";
  std::string domain = "penncloud.local";
  int file_bytes = 4096;
  std::chrono::milliseconds timeout{10000};  // per attempt
  int retries = 0;  // extra attempts after a 503, 502/504, timeout or broken connection
  int64_t max_requests = 10'000'000;
  bool login_per_user = false;
  bool verify = false;  // after the load, re-read every acknowledged mail and file
  // The steps of a visit, in order (a subset of list_inbox ... download).
  std::vector<Op> steps = {Op::kListInbox, Op::kReadMail, Op::kSendMail,
                           Op::kListDrive, Op::kUpload,   Op::kDownload};
  std::vector<ServerProcess> servers;  // whose CPU each level reports (LevelInfo)
  // Once this turns true the load ends early (verification still runs): user_sim's
  // SIGINT/SIGTERM, for a caller that decides how long the load lasts.
  const std::atomic<bool>* interrupted = nullptr;
};

struct VerifyReport {
  bool ran = false;
  int64_t mails_acked = 0;
  int64_t mails_missing = 0;
  int64_t files_acked = 0;
  int64_t files_bad = 0;  // missing, unreadable, or older than the last acknowledged write
  std::vector<std::string> problems;  // the first few, for the report
};

struct SimResult {
  std::string setup_error;  // non-empty if the accounts could not be prepared
  std::string first_error;  // the first failed request, for the report
  std::vector<Record> records;
  std::vector<LevelInfo> levels;
  VerifyReport verify;
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace penncloud::sim
