#include "http/static_files.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "http/json_response.h"

namespace penncloud::http {
namespace {

std::string ContentType(const std::string& path) {
  auto ends = [&](const char* ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json") || ends(".map")) return "application/json";
  return "application/octet-stream";
}

// Reads files on first use and keeps them, up to a bound. Only files that exist are kept:
// remembering misses let anyone grow the cache without bound by asking for made-up names.
// Past the bound files are read from disk on every request (the app's own files, a few
// hundred KiB in all, always fit).
class FileCache {
 public:
  static constexpr size_t kMaxFiles = 1024;
  static constexpr size_t kMaxBytes = 64 << 20;
  static constexpr size_t kMaxFileBytes = 4 << 20;

  std::shared_ptr<const std::string> Get(const std::string& path) {
    {
      std::lock_guard lock(mu_);
      auto it = files_.find(path);
      if (it != files_.end()) return it->second;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return nullptr;
    std::ostringstream buf;
    buf << in.rdbuf();
    auto content = std::make_shared<const std::string>(buf.str());
    std::lock_guard lock(mu_);
    if (files_.size() < kMaxFiles && bytes_ + content->size() <= kMaxBytes &&
        content->size() <= kMaxFileBytes && files_.emplace(path, content).second) {
      bytes_ += content->size();
    }
    return content;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> files_;  // GUARDED_BY(mu_)
  size_t bytes_ = 0;                                                           // GUARDED_BY(mu_)
};

bool SafeRelative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    std::string seg = rel.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.find('\\') != std::string::npos ||
        seg.find('\0') != std::string::npos) {
      return false;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return true;
}

Response Serve(FileCache& cache, const std::string& path, bool page, const char* cache_control) {
  std::shared_ptr<const std::string> content = cache.Get(path);
  if (!content) return ErrorResponse(404, "not found");
  Response res;
  res.headers.Set("Content-Type", ContentType(path));
  res.headers.Set("Cache-Control", cache_control);
  res.headers.Set("X-Content-Type-Options", "nosniff");
  if (page) AddPageSecurityHeaders(res);
  res.body = *content;
  return res;
}

}  // namespace

void AddPageSecurityHeaders(Response& res) {
  res.headers.Set("Content-Security-Policy",
                  "default-src 'self'; script-src 'self'; style-src 'self'; "
                  "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  res.headers.Set("X-Frame-Options", "DENY");
  res.headers.Set("Referrer-Policy", "same-origin");
  res.headers.Set("X-Content-Type-Options", "nosniff");
  res.headers.Set("Cross-Origin-Opener-Policy", "same-origin");
}

void RegisterStaticRoutes(Router& router, const StaticSite& site) {
  auto cache = std::make_shared<FileCache>();
  RouteOptions fast{.stream_body = false, .max_body = 0, .nonblocking = true};
  for (const StaticFolder& folder : site.folders) {
    router.Add(
        "GET", folder.prefix + "/*",
        [cache, folder](Request& req) {
          const std::string& rel = req.params["*"];
          if (!SafeRelative(rel)) return ErrorResponse(404, "not found");
          return Serve(*cache, folder.root + "/" + rel, false, folder.cache_control.c_str());
        },
        fast);
  }
  router.Add(
      "GET", "/",
      [cache, pages = site.pages_root](Request&) {
        return Serve(*cache, pages + "/index.html", true, "no-cache");
      },
      fast);
  router.Add(
      "GET", "/{page}",
      [cache, pages = site.pages_root, hidden = site.hidden_pages](Request& req) {
        // Matched on the decoded name, so "/%61dmin" is "admin" here too.
        const std::string& page = req.params["page"];
        if (!SafeRelative(page) || page.find('.') != std::string::npos ||
            std::find(hidden.begin(), hidden.end(), page) != hidden.end()) {
          return ErrorResponse(404, "not found");
        }
        return Serve(*cache, pages + "/" + page + ".html", true, "no-cache");
      },
      fast);
}

}  // namespace penncloud::http
