#include "coordinator/proxy_metrics.h"

namespace penncloud::coordinator {

ProxyMetrics& Metrics() {
  static ProxyMetrics* m = new ProxyMetrics();
  return *m;
}

}  // namespace penncloud::coordinator
