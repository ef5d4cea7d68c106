// The config file as the real binaries see it: every binary refuses a bad file with the file,
// line and key named and a non-zero exit; a file value sets a flag's default; the command line
// wins over the file; --help works everywhere; the shipped config/penncloud.conf passes every
// binary's own check.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kBinaries = {"kvs_server", "kvsctl", "coordinator",
                                            "frontend",   "smtp",   "pop3"};

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Runs a binary to completion (it must exit within 10 s) and collects its output.
Outcome RunToExit(const std::string& dir, const std::string& binary,
                  const std::vector<std::string>& args) {
  static int runs = 0;
  std::string log = dir + "/run-" + std::to_string(++runs) + ".log";
  auto process = Process::Start(BinaryPath(binary), args, log);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return Outcome{};
  int status = process->Wait();
  EXPECT_NE(status, -1) << binary << " did not exit";
  Outcome run;
  run.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.output = ReadFile(log);
  return run;
}

// The first line a POP3 server sends, or "" if nothing answers on the port.
std::string Pop3Banner(int port) {
  if (!WaitForPort(port, std::chrono::seconds(10))) return "";
  std::string cmd =
      "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + " && timeout 5 head -n1 <&3";
  FILE* pipe = ::popen(("bash -c '" + cmd + "'").c_str(), "r");
  if (pipe == nullptr) return "";
  char line[256] = {};
  std::string banner = std::fgets(line, sizeof line, pipe) != nullptr ? line : "";
  ::pclose(pipe);
  return banner;
}

class ConfigProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("PENNCLOUD_CONFIG");
    dir_ = TempDir("penncloud-config");
  }
  void TearDown() override {
    ::unsetenv("PENNCLOUD_CONFIG");
    if (!HasFailure()) RemoveTree(dir_);
  }
  std::string dir_;
};

TEST_F(ConfigProcessTest, EveryBinaryRefusesAnUnknownKeyNamingFileLineAndKey) {
  for (const std::string& binary : kBinaries) {
    std::string conf = dir_ + "/" + binary + ".conf";
    WriteFile(conf, "[cluster]\nhttp_port = 8000\n\n[" + binary + "]\nno_such_key = 1\n");
    Outcome run = RunToExit(dir_, binary, {"--config_file=" + conf, "--check_config"});
    EXPECT_EQ(run.exit_code, 2) << binary << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr(conf + ":5: [" + binary + "] no_such_key: unknown key"))
        << binary;
  }
}

TEST_F(ConfigProcessTest, BadValueAndBadClusterKeyAreRefused) {
  std::string conf = dir_ + "/bad.conf";
  WriteFile(conf, "[frontend]\nworkers = \"lots\"\n");
  Outcome run = RunToExit(dir_, "frontend", {"--config_file=" + conf, "--check_config"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(conf + ":2: [frontend] workers: bad value 'lots'"));

  // A typo in [cluster] is caught by any binary, even one that takes nothing from it.
  WriteFile(conf, "[cluster]\nsmtp_port = 2500\npop_port = 11000\n");
  run = RunToExit(dir_, "kvsctl", {"--config_file=" + conf, "--check_config"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(conf + ":3: [cluster] pop_port: unknown key"));
}

TEST_F(ConfigProcessTest, MissingFileAndSyntaxErrorAreRefused) {
  Outcome run = RunToExit(dir_, "smtp", {"--config_file=" + dir_ + "/absent.conf"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(dir_ + "/absent.conf: cannot read the config file"));

  std::string conf = dir_ + "/syntax.conf";
  WriteFile(conf, "[smtp]\nport = 2500\ndomain = \"open\n");
  ::setenv("PENNCLOUD_CONFIG", conf.c_str(), 1);  // the environment names the file this time
  run = RunToExit(dir_, "smtp", {"--check_config"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr(conf + ":3: "));
}

TEST_F(ConfigProcessTest, FileSetsDefaultsAndTheCommandLineWins) {
  int file_port = FreePort();
  int flag_port = FreePort();
  while (flag_port == file_port) flag_port = FreePort();
  std::string conf = dir_ + "/pop3.conf";
  WriteFile(conf, "[pop3]\nport = " + std::to_string(file_port) + "\ntls = false\nstate_dir = \"" +
                      dir_ + "\"\n");

  {  // The file alone: pop3 listens on the file's port, found through $PENNCLOUD_CONFIG.
    ::setenv("PENNCLOUD_CONFIG", conf.c_str(), 1);
    auto pop3 = Process::Start(BinaryPath("pop3"), {"--kvs=127.0.0.1:1"}, dir_ + "/a.log");
    ASSERT_TRUE(pop3.ok()) << pop3.status();
    EXPECT_THAT(Pop3Banner(file_port), HasSubstr("+OK"));
    ::unsetenv("PENNCLOUD_CONFIG");
  }
  {  // The same file with --port: the flag wins, the file's port stays closed.
    auto pop3 = Process::Start(
        BinaryPath("pop3"),
        {"--config_file=" + conf, "--port=" + std::to_string(flag_port), "--kvs=127.0.0.1:1"},
        dir_ + "/b.log");
    ASSERT_TRUE(pop3.ok()) << pop3.status();
    EXPECT_THAT(Pop3Banner(flag_port), HasSubstr("+OK"));
    EXPECT_FALSE(WaitForPort(file_port, std::chrono::milliseconds(300)));
  }
}

TEST_F(ConfigProcessTest, ShippedConfigPassesEveryBinarysCheck) {
  std::string conf = SourcePath("config/penncloud.conf");
  for (const std::string& binary : kBinaries) {
    Outcome run = RunToExit(dir_, binary, {"--config_file=" + conf, "--check_config"});
    EXPECT_EQ(run.exit_code, 0) << binary << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr("is good")) << binary;
  }
}

TEST_F(ConfigProcessTest, HelpOnEveryBinaryListsItsFlagsAndTheConfigFile) {
  for (const std::string& binary : kBinaries) {
    Outcome run = RunToExit(dir_, binary, {"--help"});
    EXPECT_EQ(run.exit_code, 1) << binary;  // absl's --help exits 1 after printing
    EXPECT_THAT(run.output, HasSubstr("--config_file")) << binary;
    EXPECT_THAT(run.output, Not(HasSubstr("SetProgramUsageMessage() never called"))) << binary;
  }
}

}  // namespace
}  // namespace penncloud::testing
