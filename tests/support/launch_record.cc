#include "tests/support/launch_record.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace penncloud::testing {

absl::Status WriteLaunchRecord(const std::string& run_dir, const LaunchRecordInfo& info) {
  std::vector<std::string> argv = {info.binary};
  argv.insert(argv.end(), info.args.begin(), info.args.end());
  char cwd[4096];
  nlohmann::json record = {{"name", info.name},
                           {"tier", info.tier},
                           {"address", info.address},
                           {"argv", argv},
                           {"cwd", ::getcwd(cwd, sizeof cwd) ? cwd : "/"},
                           {"log", info.log},
                           {"pid", info.pid}};
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  const std::string path = run_dir + "/" + info.name + ".json";
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << record.dump(2) << "\n";
    if (!out.flush()) return absl::InternalError("cannot write " + path);
  }
  std::filesystem::rename(path + ".tmp", path, ec);
  if (ec) return absl::InternalError("cannot rename to " + path);
  return absl::OkStatus();
}

void KillRecordedProcesses(const std::string& run_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    nlohmann::json record = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object() || !record.contains("pid") || !record.contains("argv")) continue;
    const int pid = record["pid"].get<int>();
    std::string expected;
    for (const auto& arg : record["argv"]) {
      expected += arg.get<std::string>();
      expected.push_back('\0');
    }
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::stringstream actual;
    actual << cmdline.rdbuf();
    if (pid > 0 && actual.str() == expected) ::kill(pid, SIGKILL);
  }
}

}  // namespace penncloud::testing
