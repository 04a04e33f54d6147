// Discrete-event simulation of one queue; the model and its definitions are in simulate.hpp.
//
// Performance notes (target: 1,000,000 calls in at most 2 s on one core): the event queue is a
// binary heap (std::push_heap/pop_heap) in a vector reserved for the most events that can be
// pending at once (one per busy agent, one arrival, one boundary), and waiting calls sit in a
// ring buffer that only grows when it is full, so the hot loop does not allocate. Abandonment
// is resolved lazily: a waiting call carries its deadline and is dropped as abandoned when it
// reaches the head of the queue after that deadline, which gives the same counts and waits as
// an abandonment event (statistics are attributed to the arrival interval) without heap traffic.
#include "wfm/simulate.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <string>

#include "core/assert.hpp"

namespace opsbox::wfm {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A 64-bit stream with the few draws the simulation needs. Uniform in (0, 1] so log() is finite.
class Stream {
 public:
  explicit Stream(uint64_t seed) : gen_(seed) {}
  double UniformOpen01() { return static_cast<double>((gen_() >> 11) + 1) * 0x1.0p-53; }
  double Exponential(double mean) { return -mean * std::log(UniformOpen01()); }
  size_t Index(size_t size) { return static_cast<size_t>(UniformOpen01() * size) % size; }
  // Box-Muller written out (std::normal_distribution is not specified bit for bit).
  double StandardNormal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double r = std::sqrt(-2.0 * std::log(UniformOpen01()));
    double theta = 2.0 * std::numbers::pi * UniformOpen01();
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

struct Waiting {
  double arrival_s;
  double deadline_s;  // arrival + patience; +inf without patience
  double handle_s;
  int32_t interval;
};

// FIFO of waiting calls; grows by doubling only when full.
class WaitQueue {
 public:
  WaitQueue() : buf_(1024) {}
  bool empty() const { return size_ == 0; }
  void Push(const Waiting& w) {
    if (size_ == buf_.size()) Grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = w;
    ++size_;
  }
  Waiting Pop() {
    OPSBOX_ASSERT(size_ > 0);
    Waiting w = buf_[head_];
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
    return w;
  }

 private:
  void Grow() {
    std::vector<Waiting> bigger(buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_.swap(bigger);
    head_ = 0;
  }
  std::vector<Waiting> buf_;  // size is a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

enum EventKind : uint64_t { kArrival = 0, kDeparture = 1, kBoundary = 2 };

struct Event {
  double at_s;
  uint64_t key;  // (sequence << 2) | kind: ties in time pop in scheduling order
};

struct LaterFirst {
  bool operator()(const Event& a, const Event& b) const {
    return a.at_s > b.at_s || (a.at_s == b.at_s && a.key > b.key);
  }
};

// The state of one replication.
class Replication {
 public:
  Replication(const SimulationConfig& config, uint64_t seed)
      : c_(config),
        n_(static_cast<int32_t>(config.volumes_per_interval.size())),
        arrivals_(SplitMix64(seed ^ 0xA11u)),
        handles_(SplitMix64(seed ^ 0x4A4Du)),
        patience_(SplitMix64(seed ^ 0x9A7u)) {
    result_.seed = seed;
    result_.intervals.resize(n_);
    int32_t agents_max =
        *std::max_element(c_.agents_per_interval.begin(), c_.agents_per_interval.end());
    heap_.reserve(static_cast<size_t>(agents_max) + 4);
  }

  ReplicationResult Run();

 private:
  void Schedule(double at_s, EventKind kind) {
    heap_.push_back(Event{at_s, (seq_++ << 2) | kind});
    std::push_heap(heap_.begin(), heap_.end(), LaterFirst{});
  }
  void ScheduleNextArrival(double from_s);
  void Advance(double to_s);
  void OnArrival(double at_s);
  void OnBoundary(double at_s);
  void ServeWaiting(double at_s);
  void StartService(double at_s, const Waiting& w);
  void FinishDrain();
  double HandleTime();
  double Patience();

  const SimulationConfig& c_;
  const int32_t n_;
  Stream arrivals_;
  Stream handles_;
  Stream patience_;
  std::vector<Event> heap_;
  WaitQueue queue_;
  ReplicationResult result_;
  uint64_t seq_ = 0;
  double clock_s_ = 0;
  int32_t current_ = 0;  // interval of the clock; n_ after the horizon
  int32_t arrival_interval_ = 0;
  int64_t staffed_ = 0;
  int64_t busy_ = 0;
};

double Replication::HandleTime() {
  const HandleTimeModel& h = c_.handle;
  switch (h.kind) {
    case HandleDistribution::kExponential:
      return handles_.Exponential(h.mean_s);
    case HandleDistribution::kLognormal: {
      double var_log = std::log1p((h.sd_s * h.sd_s) / (h.mean_s * h.mean_s));
      double mu_log = std::log(h.mean_s) - 0.5 * var_log;
      return std::exp(mu_log + std::sqrt(var_log) * handles_.StandardNormal());
    }
    case HandleDistribution::kEmpirical:
      return h.samples_s[handles_.Index(h.samples_s.size())];
  }
  OPSBOX_ASSERT_MSG(false, "unknown handle distribution");
  return 0;
}

double Replication::Patience() {
  const PatienceModel& p = c_.patience;
  switch (p.kind) {
    case PatienceDistribution::kNone:
      return kInf;
    case PatienceDistribution::kExponential:
      return patience_.Exponential(p.mean_s);
    case PatienceDistribution::kEmpirical:
      return p.samples_s[patience_.Index(p.samples_s.size())];
  }
  OPSBOX_ASSERT_MSG(false, "unknown patience distribution");
  return 0;
}

// Piecewise constant rate: by memorylessness, an exponential gap that crosses the end of an
// interval is redrawn from that boundary with the next interval's rate.
void Replication::ScheduleNextArrival(double from_s) {
  const double interval_s = c_.interval_s;
  double t = from_s;
  for (int32_t i = arrival_interval_; i < n_; ++i) {
    double end_s = (i + 1) * interval_s;
    double volume = c_.volumes_per_interval[i];
    if (volume > 0) {
      double next = t + arrivals_.Exponential(interval_s / volume);
      if (next < end_s) {
        arrival_interval_ = i;
        Schedule(next, kArrival);
        return;
      }
    }
    t = end_s;
  }
  arrival_interval_ = n_;
}

void Replication::Advance(double to_s) {
  if (current_ < n_) {
    double dt = to_s - clock_s_;
    IntervalCounts& bucket = result_.intervals[current_];
    bucket.busy_agent_s += static_cast<double>(busy_) * dt;
    bucket.present_agent_s += static_cast<double>(std::max(staffed_, busy_)) * dt;
  }
  clock_s_ = to_s;
}

void Replication::StartService(double at_s, const Waiting& w) {
  IntervalCounts& counts = result_.intervals[w.interval];
  double wait_s = at_s - w.arrival_s;
  ++counts.answered;
  if (wait_s <= c_.target_answer_s) ++counts.answered_within_target;
  counts.wait_all_s += wait_s;
  counts.wait_answered_s += wait_s;
  ++busy_;
  Schedule(at_s + w.handle_s, kDeparture);
}

void Replication::ServeWaiting(double at_s) {
  while (busy_ < staffed_ && !queue_.empty()) {
    Waiting w = queue_.Pop();
    if (w.deadline_s < at_s) {
      IntervalCounts& counts = result_.intervals[w.interval];
      ++counts.abandoned;
      counts.wait_all_s += w.deadline_s - w.arrival_s;
      continue;
    }
    StartService(at_s, w);
  }
}

void Replication::OnArrival(double at_s) {
  int32_t interval = arrival_interval_;
  ++result_.intervals[interval].offered;
  Waiting w{at_s, 0, HandleTime(), interval};
  w.deadline_s = at_s + Patience();
  if (busy_ < staffed_ && queue_.empty()) {
    StartService(at_s, w);
  } else {
    queue_.Push(w);
  }
  ScheduleNextArrival(at_s);
}

void Replication::OnBoundary(double at_s) {
  ++current_;
  if (current_ < n_) {
    staffed_ = c_.agents_per_interval[current_];
    Schedule((current_ + 1) * static_cast<double>(c_.interval_s), kBoundary);
    ServeWaiting(at_s);
  }
  // At the end of the horizon the last interval's staffing stays on for the drain.
}

// Calls left waiting when no event remains (only when nobody is staffed after the horizon).
void Replication::FinishDrain() {
  double end_s = std::max(clock_s_, static_cast<double>(n_) * c_.interval_s);
  while (!queue_.empty()) {
    Waiting w = queue_.Pop();
    IntervalCounts& counts = result_.intervals[w.interval];
    if (w.deadline_s < kInf) {
      ++counts.abandoned;
      counts.wait_all_s += w.deadline_s - w.arrival_s;
    } else {
      ++counts.unfinished;
      counts.wait_all_s += end_s - w.arrival_s;
    }
  }
}

ReplicationResult Replication::Run() {
  staffed_ = c_.agents_per_interval[0];
  Schedule(static_cast<double>(c_.interval_s), kBoundary);
  ScheduleNextArrival(0);
  int64_t events = 0;
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), LaterFirst{});
    Event e = heap_.back();
    heap_.pop_back();
    ++events;
    Advance(e.at_s);
    switch (static_cast<EventKind>(e.key & 3)) {
      case kArrival:
        OnArrival(e.at_s);
        break;
      case kDeparture:
        --busy_;
        ServeWaiting(e.at_s);
        break;
      case kBoundary:
        OnBoundary(e.at_s);
        break;
    }
  }
  FinishDrain();
  result_.events = events;
  for (int32_t i = c_.warmup_intervals; i < n_; ++i) {
    const IntervalCounts& x = result_.intervals[i];
    IntervalCounts& t = result_.total;
    t.offered += x.offered;
    t.answered += x.answered;
    t.answered_within_target += x.answered_within_target;
    t.abandoned += x.abandoned;
    t.unfinished += x.unfinished;
    t.wait_all_s += x.wait_all_s;
    t.wait_answered_s += x.wait_answered_s;
    t.busy_agent_s += x.busy_agent_s;
    t.present_agent_s += x.present_agent_s;
  }
  return std::move(result_);
}

// ---- validation ----

Status CheckDuration(const std::string& field, double v, bool zero_ok) {
  if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0)) {
    return Error::Invalid(
        field, zero_ok ? "non_negative" : "positive",
        field + (zero_ok ? " must be a finite number >= 0" : " must be a finite number > 0"));
  }
  if (v > kSimDurationMaxS) {
    return Error::Invalid(field, "max", field + " must be at most 604800 s (one week)");
  }
  return Ok();
}

Status CheckSamples(const std::string& field, const std::vector<double>& samples, bool zero_ok) {
  if (samples.empty()) {
    return Error::Invalid(field, "required", field + " must list at least one observed value");
  }
  if (samples.size() > kSimEmpiricalSamplesMax) {
    return Error::Invalid(field, "max", field + " may hold at most 1000000 values");
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    OPSBOX_TRY(CheckDuration(field + "[" + std::to_string(i) + "]", samples[i], zero_ok));
  }
  return Ok();
}

Status ValidateModels(const SimulationConfig& c) {
  switch (c.handle.kind) {
    case HandleDistribution::kExponential:
      OPSBOX_TRY(CheckDuration("handle.mean_s", c.handle.mean_s, false));
      break;
    case HandleDistribution::kLognormal:
      OPSBOX_TRY(CheckDuration("handle.mean_s", c.handle.mean_s, false));
      OPSBOX_TRY(CheckDuration("handle.sd_s", c.handle.sd_s, false));
      break;
    case HandleDistribution::kEmpirical:
      OPSBOX_TRY(CheckSamples("handle.samples_s", c.handle.samples_s, false));
      break;
  }
  switch (c.patience.kind) {
    case PatienceDistribution::kNone:
      break;
    case PatienceDistribution::kExponential:
      OPSBOX_TRY(CheckDuration("patience.mean_s", c.patience.mean_s, false));
      break;
    case PatienceDistribution::kEmpirical:
      OPSBOX_TRY(CheckSamples("patience.samples_s", c.patience.samples_s, true));
      break;
  }
  return CheckDuration("target_answer_s", c.target_answer_s, true);
}

Status ValidateHorizon(const SimulationConfig& c) {
  if (c.interval_s != 900 && c.interval_s != 1800 && c.interval_s != 3600) {
    return Error::Invalid("interval_s", "one_of", "interval_s must be 900, 1800 or 3600");
  }
  const auto& v = c.volumes_per_interval;
  if (v.empty()) {
    return Error::Invalid("volumes_per_interval", "required", "at least one interval is needed");
  }
  if (v.size() > static_cast<size_t>(kSimIntervalsMax)) {
    return Error::Invalid("volumes_per_interval", "max", "at most 100000 intervals");
  }
  if (c.agents_per_interval.size() != v.size()) {
    return Error::Invalid("agents_per_interval", "same_length",
                          "agents_per_interval needs one count per interval (" +
                              std::to_string(v.size()) + "), got " +
                              std::to_string(c.agents_per_interval.size()));
  }
  double volume_sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string idx = "[" + std::to_string(i) + "]";
    if (!std::isfinite(v[i]) || v[i] < 0) {
      return Error::Invalid("volumes_per_interval" + idx, "non_negative",
                            "a volume must be a finite number >= 0");
    }
    int32_t a = c.agents_per_interval[i];
    if (a < 0 || a > kSimAgentsMax) {
      return Error::Invalid("agents_per_interval" + idx, "range",
                            "an agent count must be between 0 and 100000");
    }
    volume_sum += v[i];
  }
  if (c.warmup_intervals < 0 || c.warmup_intervals >= static_cast<int32_t>(v.size())) {
    return Error::Invalid("warmup_intervals", "range",
                          "warmup_intervals must be >= 0 and fewer than the intervals");
  }
  if (c.replications < 1 || c.replications > kSimReplicationsMax) {
    return Error::Invalid("replications", "range", "replications must be between 1 and 1000");
  }
  if (volume_sum * c.replications > kSimExpectedCallsMax) {
    return Error::Invalid("volumes_per_interval", "max",
                          "expected calls (sum of volumes x replications) exceed 200000000");
  }
  return Ok();
}

// ---- summary over replications ----

// Welford's running mean and variance.
struct Accumulator {
  int32_t n = 0;
  double mean = 0;
  double m2 = 0;
  void Add(double x) {
    if (std::isnan(x)) return;
    ++n;
    double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  Estimate ToEstimate() const {
    Estimate e;
    e.replications = n;
    e.mean = n > 0 ? mean : kNaN;
    e.half_width_95 = n >= 2 ? StudentT975(n - 1) * std::sqrt(m2 / (n - 1) / n) : kNaN;
    return e;
  }
};

struct MetricAccumulators {
  Accumulator offered, answered, abandoned, unfinished, service_level, asa_s, mean_wait_answered_s,
      abandon_probability, occupancy;

  void Add(const IntervalCounts& x) {
    double offered_calls = static_cast<double>(x.offered);
    double per_offered = x.offered > 0 ? 1.0 / offered_calls : kNaN;
    offered.Add(offered_calls);
    answered.Add(static_cast<double>(x.answered));
    abandoned.Add(static_cast<double>(x.abandoned));
    unfinished.Add(static_cast<double>(x.unfinished));
    service_level.Add(static_cast<double>(x.answered_within_target) * per_offered);
    asa_s.Add(x.wait_all_s * per_offered);
    mean_wait_answered_s.Add(x.answered > 0 ? x.wait_answered_s / static_cast<double>(x.answered)
                                            : kNaN);
    abandon_probability.Add(static_cast<double>(x.abandoned) * per_offered);
    occupancy.Add(x.present_agent_s > 0 ? x.busy_agent_s / x.present_agent_s : kNaN);
  }

  void Fill(IntervalReport& r) const {
    r.offered = offered.ToEstimate();
    r.answered = answered.ToEstimate();
    r.abandoned = abandoned.ToEstimate();
    r.unfinished = unfinished.ToEstimate();
    r.service_level = service_level.ToEstimate();
    r.asa_s = asa_s.ToEstimate();
    r.mean_wait_answered_s = mean_wait_answered_s.ToEstimate();
    r.abandon_probability = abandon_probability.ToEstimate();
    r.occupancy = occupancy.ToEstimate();
  }
};

}  // namespace

Status ValidateSimulationConfig(const SimulationConfig& config) {
  OPSBOX_TRY(ValidateHorizon(config));
  return ValidateModels(config);
}

uint64_t ReplicationSeed(uint64_t run_seed, int32_t index) {
  return SplitMix64(SplitMix64(run_seed) + static_cast<uint64_t>(index));
}

double StudentT975(int32_t df) {
  OPSBOX_ASSERT(df >= 1);
  try {
    boost::math::students_t dist(static_cast<double>(df));
    return boost::math::quantile(dist, 0.975);
  } catch (const std::exception&) {
    return kNaN;  // not reached for df >= 1; Boost.Math reports domain errors by throwing
  }
}

Result<ReplicationResult> SimulateReplication(const SimulationConfig& config, uint64_t seed) {
  OPSBOX_TRY(ValidateSimulationConfig(config));
  return Replication(config, seed).Run();
}

Result<SimulationReport> Simulate(const SimulationConfig& config, uint64_t seed) {
  OPSBOX_TRY(ValidateSimulationConfig(config));
  const size_t n = config.volumes_per_interval.size();
  std::vector<MetricAccumulators> per_interval(n);
  MetricAccumulators total;
  SimulationReport report;
  report.seed = seed;
  report.replications = config.replications;
  for (int32_t r = 0; r < config.replications; ++r) {
    ReplicationResult rep = Replication(config, ReplicationSeed(seed, r)).Run();
    for (size_t i = 0; i < n; ++i) {
      per_interval[i].Add(rep.intervals[i]);
      report.calls_simulated += rep.intervals[i].offered;
    }
    total.Add(rep.total);
  }
  report.intervals.resize(n);
  for (size_t i = 0; i < n; ++i) {
    IntervalReport& ir = report.intervals[i];
    ir.index = static_cast<int32_t>(i);
    ir.agents = config.agents_per_interval[i];
    ir.expected_volume = config.volumes_per_interval[i];
    per_interval[i].Fill(ir);
  }
  total.Fill(report.total);
  for (size_t i = static_cast<size_t>(config.warmup_intervals); i < n; ++i) {
    report.total.expected_volume += config.volumes_per_interval[i];
  }
  return report;
}

}  // namespace opsbox::wfm
