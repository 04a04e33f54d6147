// `opsbox simulate` (issue #4): a traffic simulator that drives a RUNNING server through its
// public HTTP API only, so the demo (and a load test) shows live queues, agents and statistics.
//
// Setup (idempotent; with the admin API key): a queue "sim" whose target expression picks workers
// with attributes.team == "sim", the tenant's "default" workflow sending every task to it, an
// API key "sim-intake" (role integration) for arrivals, and per agent an API key
// "sim-agent-<n>" (role agent) registered as a routing worker (its worker id is the key's actor
// id, "key_…"). Keys of an earlier run still active under those names are revoked first and
// workers of earlier runs retired (team "sim-ended", no capacity), so no work is offered to
// agents nobody plays; new secrets live in memory only.
//
// Traffic: arrivals are a Poisson process with rate --rate-per-min times IntradayFactor(local
// hour); each picks a channel from --channels uniformly (repeat a name to weight it). "chat"
// arrivals post a customer message to POST /channels/chat/messages (intake opens a
// conversation, routing creates its task); other channels POST /routing/tasks. Each agent sets
// itself available and polls GET /routing/me; it accepts offers (rejecting a few, so re-offers
// happen), handles each task for a lognormal time with mean --handle-s-mean, sometimes replies to
// the attached conversation, completes the task, waits --wrap-up-s and ends the wrap-up. One
// summary line per --summary-s goes to the log. Server errors are logged and counted, never
// fatal after setup. On stop, open tasks are completed, agents go offline, and the run's keys
// are revoked.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace opsbox::app {

inline constexpr int kSimulateAgentsMax = 500;
inline constexpr double kSimulateRatePerMinMax = 60000;
inline constexpr double kSimulateHandleSMax = 24 * 3600;

struct SimulateOptions {
  std::string url = "http://127.0.0.1:8080";  // the server's base URL (http:// or https://)
  std::string tenant;
  std::string api_key;                        // admin: routing.manage, api_keys.manage
  int agents = 8;                             // 1..kSimulateAgentsMax
  double rate_per_min = 30;                   // mean arrivals per minute over a day (> 0)
  bool intraday = true;                       // false: a flat rate
  double duration_s = 0;                      // 0: until *stop becomes true
  uint64_t seed = 1;
  std::vector<std::string> channels = {"chat", "email", "voice"};
  double handle_s_mean = 30;                  // lognormal handle time, mean in seconds
  double wrap_up_s = 5;
  double reject_probability = 0.05;           // of an offer
  double reply_probability = 0.5;             // of a task with a conversation
  int poll_ms = 500;                          // GET /routing/me interval per agent
  double summary_s = 60;                      // seconds between summary lines
  const std::atomic<bool>* stop = nullptr;    // optional: set to end the run (signal handler)
};

// The day curve multiplying the arrival rate at `local_hour` (0 <= h < 24, fractional): a low
// night (about 0.25), a peak of about 2.3 from 11:00 to 12:00 and a shoulder near 15:30; its
// mean over the 24 hours is 1, so --rate-per-min is the day's average rate. Pure.
double IntradayFactor(double local_hour);

// Checks the options: an Error message naming the option, or empty when they are valid. Pure.
std::string ValidateSimulateOptions(const SimulateOptions& options);

// Runs the simulation; blocks until duration_s has passed or *stop is true. Writes progress,
// errors and summaries to `log` (serialised internally). Returns 0 after a run, 2 for invalid
// options, 1 when setup fails (the server is unreachable or refuses the admin key).
// The last line written is "sim total: arrivals=N accepted=N rejected=N completed=N
// replies=N errors=N". Thread-safety: one call at a time per `log`.
int RunSimulate(const SimulateOptions& options, std::ostream& log);

// Registers `simulate` under `app`; it runs in its callback until --duration-s passes or SIGINT /
// SIGTERM arrives, and reports a non-zero status as CLI::RuntimeError. Returns the subcommand.
CLI::App* AddSimulateCommand(CLI::App& app);

}  // namespace opsbox::app
