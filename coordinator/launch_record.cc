#include "coordinator/launch_record.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "nlohmann/json.hpp"

namespace penncloud::coordinator {

absl::StatusOr<LaunchRecord> ParseLaunchRecord(const std::string& json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("launch record is not a JSON object");
  LaunchRecord r;
  try {
    r.name = j.at("name").get<std::string>();
    r.tier = j.at("tier").get<std::string>();
    r.address = j.at("address").get<std::string>();
    r.argv = j.at("argv").get<std::vector<std::string>>();
    r.cwd = j.value("cwd", std::string("/"));
    r.log = j.value("log", std::string("/dev/null"));
    r.pid = j.value("pid", 0);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("launch record: ", e.what()));
  }
  if (r.name.empty() || r.argv.empty()) {
    return absl::InvalidArgumentError("launch record without name or argv");
  }
  return r;
}

std::string FormatLaunchRecord(const LaunchRecord& r) {
  nlohmann::json j = {{"name", r.name}, {"tier", r.tier}, {"address", r.address}, {"argv", r.argv},
                      {"cwd", r.cwd},   {"log", r.log},   {"pid", r.pid}};
  return j.dump(2) + "\n";
}

std::vector<LaunchRecord> ReadLaunchRecords(const std::string& run_dir) {
  std::vector<LaunchRecord> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<LaunchRecord> record = ParseLaunchRecord(text.str());
    if (!record.ok()) {
      PC_LOG(kWarn, "coordinator.bad_launch_record")
      ("file", entry.path().string())("error", record.status().ToString());
      continue;
    }
    out.push_back(std::move(*record));
  }
  return out;
}

namespace {

absl::Status WriteAtomically(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename to ", path.string()));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteLaunchRecord(const std::string& run_dir, const LaunchRecord& record) {
  std::filesystem::path dir(run_dir);
  if (absl::Status s = WriteAtomically(dir / (record.name + ".json"), FormatLaunchRecord(record));
      !s.ok()) {
    return s;
  }
  std::filesystem::path pidfile = dir / (record.name + ".pid");
  if (std::filesystem::exists(pidfile)) {
    return WriteAtomically(pidfile, absl::StrCat(record.pid, "\n"));
  }
  return absl::OkStatus();
}

}  // namespace penncloud::coordinator
