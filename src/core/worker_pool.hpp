// A fixed pool of threads for blocking work that must stay off I/O and writer threads
// (argon2id password hashing, ledger verification). Bounded queue; thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace opsbox {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t queue_depth_max);
  ~WorkerPool();  // finishes queued work, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and `work` not run) when the queue is full or the pool is stopping.
  bool Post(std::function<void()> work);
  void Stop();

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t queue_depth_max_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace opsbox
