// Scheduled backups from the server: a timer thread, retention by count, and the status the
// administrator's home page and /metrics show.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "backup/backup.hpp"
#include "core/time.hpp"

namespace opsbox::backup {
namespace {

constexpr std::string_view kScheduledPrefix = "opsbox-backup-";
constexpr std::string_view kScheduledSuffix = ".obk";

bool IsScheduledName(std::string_view n) {
  // opsbox-backup-YYYYMMDDTHHMMSSZ.obk
  constexpr size_t kStampBytes = 16;
  if (n.size() != kScheduledPrefix.size() + kStampBytes + kScheduledSuffix.size()) return false;
  if (n.substr(0, kScheduledPrefix.size()) != kScheduledPrefix) return false;
  if (n.substr(n.size() - kScheduledSuffix.size()) != kScheduledSuffix) return false;
  const std::string_view stamp = n.substr(kScheduledPrefix.size(), kStampBytes);
  for (size_t i = 0; i < stamp.size(); ++i) {
    const char c = stamp[i];
    if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9')) return false;
  }
  return true;
}

std::string Rfc3339OrNull(int64_t us) { return us == 0 ? "" : FormatRfc3339(Instant{us}); }

}  // namespace

std::string ScheduledBackupName(int64_t now_us) {
  const std::time_t secs = static_cast<std::time_t>(now_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(kScheduledPrefix) + buf + std::string(kScheduledSuffix);
}

std::vector<std::string> BackupsToDelete(std::vector<std::string> names, size_t keep) {
  std::erase_if(names, [](const std::string& n) { return !IsScheduledName(n); });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.size() <= keep) return {};
  names.resize(names.size() - keep);
  return names;
}

std::string ScheduleStatus::State(int64_t now_us) const {
  if (!enabled) return "disabled";
  if (standby) return "standby";
  if (last_failure_at_us > last_success_at_us) return "failing";
  if (last_success_at_us == 0) return "pending";
  if (now_us - last_success_at_us > 2 * interval_s * 1000000) return "stale";
  return "ok";
}

Json ScheduleStatus::ToJson(int64_t now_us) const {
  auto at = [](int64_t us) { return us == 0 ? Json(nullptr) : Json(Rfc3339OrNull(us)); };
  return Json{{"state", State(now_us)},
              {"enabled", enabled},
              {"interval_s", interval_s},
              {"folder", folder},
              {"keep_count", keep_count},
              {"last_success_at", at(last_success_at_us)},
              {"last_failure_at", at(last_failure_at_us)},
              {"last_error", last_error.empty() ? Json(nullptr) : Json(last_error)},
              {"last_file", last_file.empty() ? Json(nullptr) : Json(last_file)},
              {"last_bytes", last_bytes},
              {"last_duration_ms", last_duration_ms},
              {"next_at", at(next_at_us)},
              {"successes", successes},
              {"failures", failures}};
}

BackupScheduler::BackupScheduler(store::Database& db, ScheduleOptions options)
    : db_(db), options_(std::move(options)) {
  status_.enabled = options_.interval_s > 0;
  status_.interval_s = options_.interval_s;
  status_.folder = options_.folder;
  status_.keep_count = options_.keep_count;
}

BackupScheduler::~BackupScheduler() { Stop(); }

int64_t BackupScheduler::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void BackupScheduler::Start() {
  if (options_.interval_s <= 0) return;
  thread_ = std::thread([this] { Loop(); });
}

void BackupScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupScheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    status_.next_at_us = NowUs() + options_.interval_s * 1000000;
    cv_.wait_for(lock, std::chrono::seconds(options_.interval_s), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    if (Status st = RunIfHere(); !st.ok()) {
      spdlog::error("scheduled backup: {}", st.error().ToString());
    }
    lock.lock();
  }
}

Status BackupScheduler::RunIfHere() {
  const bool here = !options_.runs_here || options_.runs_here();
  {
    std::lock_guard lock(mu_);
    status_.standby = !here;
  }
  return here ? RunOnce() : Ok();
}

Status BackupScheduler::RunOnce() {
  const int64_t started = NowUs();
  std::error_code ec;
  std::filesystem::create_directories(options_.folder, ec);
  const std::string path =
      (std::filesystem::path(options_.folder) / ScheduledBackupName(started)).string();
  BackupOptions bo;
  bo.opsbox_version = options_.opsbox_version;
  bo.now_us = started;
  auto r = CreateBackup(db_, path, bo);
  const int64_t finished = NowUs();
  std::lock_guard lock(mu_);
  status_.last_duration_ms = (finished - started) / 1000;
  if (!r.ok()) {
    status_.last_failure_at_us = finished;
    status_.last_error = r.error().message;
    ++status_.failures;
    return r.error();
  }
  status_.last_success_at_us = finished;
  status_.last_error.clear();
  status_.last_file = path;
  status_.last_bytes = r->bundle_bytes;
  ++status_.successes;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(options_.folder, ec)) {
    names.push_back(entry.path().filename().string());
  }
  for (const auto& old : BackupsToDelete(names, static_cast<size_t>(options_.keep_count))) {
    std::filesystem::remove(std::filesystem::path(options_.folder) / old, ec);
    if (ec) spdlog::warn("scheduled backup: cannot delete {}: {}", old, ec.message());
  }
  return Ok();
}

ScheduleStatus BackupScheduler::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace opsbox::backup
