// user_sim for a few seconds against a real small web tier (3-replica KVS group,
// coordinator, two frontends): every step of every visit must succeed, every acknowledged
// mail and file must be found again, and every request must be in the CSV. Keeps the
// simulator and the experiments built on it from rotting.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/process.h"
#include "tests/web/web_cluster.h"

namespace penncloud::testing {
namespace {

struct SimRun {
  int exit = -1;
  nlohmann::json summary;
  std::string log;
};

SimRun RunSim(const std::string& dir, std::vector<std::string> args) {
  args.push_back("--summary_json=" + dir + "/summary.json");
  auto p = Process::Start(BinaryPath("user_sim"), args, dir + "/user_sim.log");
  EXPECT_TRUE(p.ok()) << p.status();
  SimRun run;
  if (!p.ok()) return run;
  int status = p->Wait(std::chrono::seconds(90));
  run.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream log(dir + "/user_sim.log");
  run.log.assign(std::istreambuf_iterator<char>(log), {});
  std::ifstream in(dir + "/summary.json");
  run.summary = nlohmann::json::parse(in, nullptr, false);
  return run;
}

TEST(UserSimSmoke, EveryVisitSucceedsAndEveryAcknowledgedWriteIsFound) {
  auto cluster = WebCluster::Start({.frontends = 2});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string dir = (*cluster)->dir();
  SimRun run = RunSim(dir, {absl::StrCat("--target=127.0.0.1:", (*cluster)->http_port()),
                            "--levels=10,30", "--stage_s=3", "--think_ms=100", "--accounts=6",
                            "--verify", "--csv=" + dir + "/requests.csv"});
  ASSERT_EQ(run.exit, 0) << run.log;
  const auto& s = run.summary;
  ASSERT_TRUE(s.is_object()) << run.log;
  EXPECT_EQ(s["total"]["failed"], 0) << run.log;
  for (const char* op :
       {"list_inbox", "read_mail", "send_mail", "list_drive", "upload", "download"}) {
    ASSERT_TRUE(s["ops"].contains(op)) << op << "\n" << run.log;
    EXPECT_GT(s["ops"][op]["ok"].get<int>(), 5) << op;
  }
  EXPECT_GT(s["verify"]["mails_acked"].get<int>(), 5);
  EXPECT_EQ(s["verify"]["mails_missing"], 0) << s["verify"].dump();
  EXPECT_GT(s["verify"]["files_acked"].get<int>(), 5);
  EXPECT_EQ(s["verify"]["files_bad"], 0) << s["verify"].dump();
  ASSERT_EQ(s["levels"].size(), 2u);
  EXPECT_EQ(s["levels"][1]["users"], 30);

  std::ifstream csv(dir + "/requests.csv");
  int64_t lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  EXPECT_EQ(lines, s["total"]["requests"].get<int64_t>() + 1);  // + the header
}

// The pid of the process whose command line holds `arg` (the frontend by its --port).
int PidWithArgument(const std::string& arg) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline(std::istreambuf_iterator<char>(in), {});
    for (absl::string_view a : absl::StrSplit(cmdline, '\0')) {
      if (a == arg) return pid;
    }
  }
  return 0;
}

// One step kind at a time, as stress_test/experiments/step_cpu.sh measures them: a
// download-only visit uploads once before the level (recorded, but not in the level), the
// level holds downloads only, and it reports the frontend's CPU over the level.
TEST(UserSimSmoke, OneStepKindWithItsInputMadeFirstAndTheServersCpu) {
  auto cluster = WebCluster::Start({.frontends = 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string dir = (*cluster)->dir();
  const int frontend = PidWithArgument(absl::StrCat("--port=", (*cluster)->frontend_port(0)));
  ASSERT_GT(frontend, 0);
  SimRun run =
      RunSim(dir, {absl::StrCat("--target=127.0.0.1:", (*cluster)->http_port()), "--levels=8",
                   "--stage_s=3", "--think_ms=50", "--accounts=4", "--steps=download",
                   absl::StrCat("--server_pids=frontend=", frontend), "--verify"});
  ASSERT_EQ(run.exit, 0) << run.log;
  const auto& s = run.summary;
  ASSERT_TRUE(s.is_object()) << run.log;
  for (const auto& [op, figures] : s["ops"].items()) {
    EXPECT_TRUE(op == "download" || op == "upload" || op == "signup" || op == "verify") << op;
  }
  EXPECT_EQ(s["ops"]["upload"]["ok"], 8) << "one upload per user, before its downloads";
  EXPECT_GT(s["ops"]["download"]["ok"].get<int>(), 20);
  const auto& level = s["levels"][0];
  EXPECT_EQ(level["requests"], level["ok"]) << level.dump();
  EXPECT_GT(level["ok"].get<int>(), 20);
  EXPECT_LE(level["ok"].get<int>(), s["ops"]["download"]["ok"].get<int>());
  EXPECT_GT(level["server_cpu_ms"]["frontend"].get<double>(), 0) << level.dump();
  EXPECT_EQ(s["verify"]["files_bad"], 0) << s["verify"].dump();
}

// Two entry points, the first with nobody listening: every user that starts there moves to
// the second on its first refused connect, and the retry it is allowed hides the refusal.
// SIGINT (sent once the handler is in place) ends the 60 s stage early, and verification
// still runs.
TEST(UserSimSmoke, UsersMoveToTheNextTargetAndAnInterruptEndsTheLoadEarly) {
  auto cluster = WebCluster::Start({.frontends = 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string dir = (*cluster)->dir();
  const auto started = std::chrono::steady_clock::now();
  auto p = Process::Start(
      BinaryPath("user_sim"),
      {absl::StrCat("--target=127.0.0.1:", FreePort(), ",127.0.0.1:", (*cluster)->http_port()),
       "--levels=6", "--stage_s=60", "--think_ms=50", "--accounts=4", "--retries=1", "--verify",
       "--summary_json=" + dir + "/summary.json"},
      dir + "/user_sim.log");
  ASSERT_TRUE(p.ok()) << p.status();
  // SigCgt in /proc/PID/status lists the signals the process catches; SIGINT is bit 1.
  auto catches_sigint = [&] {
    std::ifstream status(absl::StrCat("/proc/", p->pid(), "/status"));
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("SigCgt:")) return (std::stoull(line.substr(7), nullptr, 16) & 2) != 0;
    }
    return false;
  };
  for (int i = 0; i < 500 && !catches_sigint(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(catches_sigint());
  ::kill(p->pid(), SIGINT);
  const int status = p->Wait(std::chrono::seconds(45));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(50));
  std::ifstream in(dir + "/summary.json");
  const nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(WEXITSTATUS(status), 0) << s.dump(2);
  EXPECT_EQ(s["total"]["failed"], 0) << s.dump(2);
  EXPECT_GT(s["total"]["requests"].get<int64_t>(), 0);
  EXPECT_EQ(s["verify"]["mails_missing"], 0);
  EXPECT_EQ(s["verify"]["files_bad"], 0);
}

TEST(UserSimSmoke, NobodyListeningIsAFailedSetupNotASuccess) {
  const std::string dir = TempDir("penncloud-usersim");
  SimRun run = RunSim(dir, {absl::StrCat("--target=127.0.0.1:", FreePort()), "--levels=2",
                            "--stage_s=1", "--accounts=2", "--timeout_ms=500"});
  EXPECT_EQ(run.exit, 2) << run.log;
  EXPECT_NE(run.log.find("setup failed"), std::string::npos) << run.log;
  RemoveTree(dir);
}

TEST(UserSimSmoke, BadFlagsAreRefused) {
  const std::string dir = TempDir("penncloud-usersim");
  for (const char* flag : {"--levels=10,abc", "--steps=upload,dance", "--server_pids=kvs=x"}) {
    SimRun run = RunSim(dir, {flag});
    EXPECT_EQ(run.exit, 2) << flag;
    EXPECT_NE(run.log.find(std::string(flag).substr(0, std::string(flag).find('='))),
              std::string::npos)
        << run.log;
  }
  RemoveTree(dir);
}

}  // namespace
}  // namespace penncloud::testing
