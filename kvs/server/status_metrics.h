// The replica's consensus state as Prometheus gauges (role, ballot, commit and applied
// slots, log size in slots and bytes, snapshot slot, map version), read at scrape time
// through the replica's own Status RPC: the replica needs no metrics code of its own, and
// a scrape costs one loopback call.
#pragma once

#include <string>

namespace penncloud::kvs::server {

// Registers the gauges in metrics::Default(); `address` is where the replica serves.
void ExportStatusMetrics(const std::string& address);

}  // namespace penncloud::kvs::server
