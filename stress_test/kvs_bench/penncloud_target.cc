#include "stress_test/kvs_bench/target.h"

namespace penncloud::bench {
namespace {

constexpr char kColumn[] = "v";

class PennCloudTarget final : public Target {
 public:
  explicit PennCloudTarget(std::vector<std::unique_ptr<kvs::Client>> clients)
      : clients_(std::move(clients)) {}

  absl::Status Put(int client, const std::string& key, const std::string& value) override {
    return Client(client).Put(key, kColumn, value);
  }

  absl::StatusOr<std::optional<std::string>> Get(int client, const std::string& key) override {
    absl::StatusOr<std::string> value = Client(client).Get(key, kColumn);
    if (value.ok()) return std::optional<std::string>(*std::move(value));
    if (absl::IsNotFound(value.status())) return std::optional<std::string>();
    return value.status();
  }

 private:
  kvs::Client& Client(int client) { return *clients_[client % clients_.size()]; }

  std::vector<std::unique_ptr<kvs::Client>> clients_;
};

}  // namespace

std::unique_ptr<Target> MakePennCloudTarget(std::vector<std::unique_ptr<kvs::Client>> clients) {
  return std::make_unique<PennCloudTarget>(std::move(clients));
}

}  // namespace penncloud::bench
