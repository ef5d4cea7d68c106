// How long after a client's request a frontend may still change stored data for it.
//
// A client that gave up on a request (its own timeout, or the coordinator that stopped
// waiting for the answer) cannot tell whether the request took effect, and moves on: it
// retries, or writes something newer. A write that lands after that can put old data over
// newer data the client has seen acknowledged. So each request gets a budget, counted from
// the last byte the client sent: the client's own timeout (kTimeoutHeader), capped by
// kMaxBudget; once it has run out, the store refuses the request's writes (frontend/
// deadline_store.h), and the request fails as if the store were unreachable.
//
// The frontend hears the client's last byte later than the client sent it when the hop
// between them is slow: a coordinator whose host cannot send keeps a forwarded request in
// its socket's send buffer, and the kernel delivers it when the network heals, many seconds
// after the client gave up (the multi-host test's one-way cut saw an upload land 14 s late,
// over a newer one the user had been acknowledged). So the coordinator stamps each request it
// forwards with its own clock (kSentHeader), and the time in transit is taken off the budget.
// Neither that stamp nor the frontend's receipt tells when a client sent a request into a
// network that then held it, though: a client that can say when it stops waiting, by its own
// clock, says so (kDeadlineHeader), and nothing of the request is applied after that.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace penncloud::write_deadline {

// Milliseconds the client waits for the answer; bigger values and garbage mean kMaxBudget.
inline constexpr char kTimeoutHeader[] = "X-PennCloud-Timeout-Ms";

// Below the coordinator's 60 s wait for a frontend's answer (--upstream_timeout_s), so a
// write never lands after the coordinator has answered 502 for it.
inline constexpr std::chrono::milliseconds kMaxBudget{50000};

std::chrono::milliseconds BudgetFor(std::string_view timeout_header);

// Set by the coordinator on every request it forwards (a client's own copy is dropped): its
// wall clock, in ms since the epoch, when it held the client's request (the last byte of a
// buffered body; the head of a streamed upload).
inline constexpr char kSentHeader[] = "X-PennCloud-Sent-Ms";

// What is left of `budget` at `now` for a request stamped `sent_header` (kSentHeader): the
// budget less the time since the stamp, which may leave nothing (zero or less: every write
// is refused). Hosts are assumed NTP-synchronised, as for the KVS leader's check; a stamp
// in the future (the coordinator's clock ahead) takes nothing off, and a missing or garbled
// one (a client talking to the frontend directly) leaves the budget whole.
std::chrono::milliseconds Remaining(std::chrono::milliseconds budget, std::string_view sent_header,
                                    std::chrono::system_clock::time_point now);

// Set by a client whose clock agrees with the cluster's (PennCloud's own tools, on hosts kept
// in step by NTP): its wall clock, in ms since the epoch, when it stops waiting for the answer.
// The multi-host test's cut saw a request sent into a cut-off coordinator delivered, stamped
// and applied when the network healed, 9 s after its client had given up on it and been
// acknowledged a newer upload.
inline constexpr char kDeadlineHeader[] = "X-PennCloud-Deadline-Ms";

// The time left at `now` until the client's own deadline (kDeadlineHeader): zero or less once
// it has passed, nullopt when the header is missing or garbled (the request then has only its
// budget). Only the client's own writes are limited by it, so it is taken as sent.
std::optional<std::chrono::milliseconds> UntilClientDeadline(
    std::string_view deadline_header, std::chrono::system_clock::time_point now);

// Starts the budget of the request this thread serves; ends it at scope exit. `budget` runs
// from now and starts again with each piece of a streamed body (Restart); `hard_limit`, from
// the client's own deadline, does not move.
class Scope {
 public:
  explicit Scope(std::chrono::milliseconds budget,
                 std::optional<std::chrono::milliseconds> hard_limit = std::nullopt);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

// The client sent more of its request (a piece of a streamed body): the budget runs from
// now, though never past the client's own deadline.
void Restart();

// Whether the request this thread serves has run out of budget (false outside a Scope).
bool Passed();

// When the budget of the request this thread serves runs out (nullopt outside a Scope):
// the KVS client stops retrying a write then, and the replicas refuse to propose it after.
std::optional<std::chrono::steady_clock::time_point> Deadline();

}  // namespace penncloud::write_deadline
