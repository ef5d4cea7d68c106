#include "frontend/user_agent.h"

#include <utility>

namespace penncloud::frontend {
namespace {

// The first of `names` whose token the header contains. Order matters: Edge's header also
// says Chrome and Safari, Chrome's says Safari, Android's says Linux.
std::string_view First(std::string_view ua,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> names) {
  for (const auto& [token, name] : names) {
    if (ua.find(token) != std::string_view::npos) return name;
  }
  return {};
}

}  // namespace

std::string DeviceName(std::string_view ua) {
  std::string_view program = First(ua, {{"Edg/", "Edge"},
                                        {"OPR/", "Opera"},
                                        {"Firefox/", "Firefox"},
                                        {"Chromium/", "Chromium"},
                                        {"Chrome/", "Chrome"},
                                        {"Safari/", "Safari"},
                                        {"curl/", "curl"},
                                        {"python-requests", "Python"},
                                        {"Python-urllib", "Python"}});
  std::string_view system = First(ua, {{"Android", "Android"},
                                       {"iPhone", "iPhone"},
                                       {"iPad", "iPad"},
                                       {"Windows", "Windows"},
                                       {"Mac OS X", "macOS"},
                                       {"CrOS", "ChromeOS"},
                                       {"Linux", "Linux"}});
  if (program.empty() && system.empty()) return ua.empty() ? "Unknown device" : "Other device";
  if (system.empty()) return std::string(program);
  if (program.empty()) return std::string(system);
  return std::string(program).append(" on ").append(system);
}

}  // namespace penncloud::frontend
