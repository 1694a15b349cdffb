#include "tracking/metric_writer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/text.h"
#include "tracking/spool.h"
#include "tracking/store.h"

namespace flowlab::tracking {
namespace {

std::string writer_id() {  // 64 random bits: unique among the writers of one store
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", static_cast<uint32_t>(rd()), static_cast<uint32_t>(rd()));
}

}  // namespace

struct MetricWriter::Impl {
  int64_t run_id = 0;
  std::chrono::milliseconds interval{200};
  size_t max_batch = 2000;
  double retry_seconds = 60;
  std::filesystem::path spool_file;
  const std::string writer = writer_id();
  int64_t next_seq = 0;  // writer thread only
  // Opened on the constructing thread (so open/migration errors surface there) and used only by
  // the writer thread afterwards; never concurrently.
  std::unique_ptr<Store> store;
  std::string store_name;
  bool store_gone = false;  // gave up on the server: later batches go straight to the spool

  std::mutex mu;
  std::condition_variable wake_writer;  // rows queued past max_batch, flush requested, stop
  std::condition_variable batch_done;   // a batch was committed (or failed)
  std::vector<std::pair<int64_t, MetricRow>> queue;  // (run id, row)
  uint64_t logged = 0;                               // rows ever enqueued
  uint64_t done = 0;          // rows ever handed to the store (committed, spooled or failed)
  uint64_t flush_target = 0;  // highest `logged` value some flush() is waiting for
  bool stop = false;
  std::exception_ptr error;  // first unreported writer-thread failure
  std::atomic<int64_t> written{0}, spooled{0}, retried{0};
  std::thread thread;

  // Appends the batch to the spool file; the caller reports the loss of the server.
  void spool(int64_t run, const std::vector<MetricRow>& rows, int64_t seq) {
    append_to_spool(spool_file, SpooledBatch{store_name, run, writer, seq, rows});
    spooled.fetch_add(static_cast<int64_t>(rows.size()));
  }

  // Writes one run's rows, resending after a lost connection until retry_seconds have passed;
  // then spools them and throws.
  void write(int64_t run, const std::vector<MetricRow>& rows) {
    const int64_t seq = ++next_seq;
    if (store_gone) {
      spool(run, rows, seq);
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(retry_seconds * 1000));
    std::chrono::milliseconds delay(50);
    for (;;) {
      try {
        store->log_metric_batch(run, rows, writer, seq);
        written.fetch_add(static_cast<int64_t>(rows.size()));
        return;
      } catch (const StoreUnavailable& e) {
        if (std::chrono::steady_clock::now() >= deadline) {
          store_gone = true;
          spool(run, rows, seq);
          throw StoreError(fmt::format(
              "{}; gave up after {:.0f} s of retries. The metrics not written are saved in {} "
              "(load them with: flowlab store import {})",
              e.what(), retry_seconds, spool_file.string(), spool_file.string()));
        }
      } catch (const StoreError& e) {
        // Not the connection (a constraint, a full disk, ...): resending will not help, but the
        // rows are still kept.
        spool(run, rows, seq);
        throw StoreError(fmt::format("{}. The {} metric rows of that batch are saved in {}",
                                     e.what(), rows.size(), spool_file.string()));
      }
      retried.fetch_add(1);
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(2000));
      store->reconnect();  // a failure shows at the next attempt
    }
  }

  void run() {
    std::vector<std::pair<int64_t, MetricRow>> batch;
    std::vector<MetricRow> rows;
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      wake_writer.wait_for(
          lk, interval, [&] { return stop || queue.size() >= max_batch || flush_target > done; });
      if (queue.empty()) {
        if (stop) return;
        continue;
      }
      batch.swap(queue);
      const uint64_t upto = logged;
      lk.unlock();  // producers keep logging while we write
      std::exception_ptr failure;
      // One transaction per run in the batch (a sweep's writer serves all its children); the
      // stable sort keeps each run's rows in logging order.
      std::stable_sort(batch.begin(), batch.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 0; i < batch.size();) {
        size_t j = i;
        rows.clear();
        while (j < batch.size() && batch[j].first == batch[i].first)
          rows.push_back(batch[j++].second);
        try {
          write(batch[i].first, rows);
        } catch (...) {
          if (!failure) failure = std::current_exception();
        }
        i = j;
      }
      batch.clear();
      lk.lock();
      if (failure && !error) error = failure;
      done = upto;
      batch_done.notify_all();
    }
  }

  // Caller holds `mu`. Reports a writer failure once; the writer keeps going with later rows.
  void rethrow_error() {
    if (error) std::rethrow_exception(std::exchange(error, nullptr));
  }
};

MetricWriter::MetricWriter(const StoreLocation& where, int64_t run_id, int flush_interval_ms,
                           size_t max_batch)
    : MetricWriter(where, run_id, [&] {
        MetricWriterOptions o;
        o.flush_interval_ms = flush_interval_ms;
        o.max_batch = max_batch;
        return o;
      }()) {}

MetricWriter::MetricWriter(const StoreLocation& where, int64_t run_id,
                           const MetricWriterOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->run_id = run_id;
  impl_->interval = std::chrono::milliseconds(std::max(1, options.flush_interval_ms));
  impl_->max_batch = std::max<size_t>(1, options.max_batch);
  impl_->retry_seconds = store_retry_seconds(options.retry_seconds);
  const std::filesystem::path dir = options.spool_dir.empty()
                                        ? std::filesystem::temp_directory_path() / "flowlab-spool"
                                        : options.spool_dir;
  impl_->spool_file = dir / fmt::format("metrics-run{}-{}.jsonl", run_id, impl_->writer);
  impl_->store = std::make_unique<Store>(where);
  impl_->store_name = where.display();
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

MetricWriter::~MetricWriter() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;  // the writer drains the queue before it exits
  }
  impl_->wake_writer.notify_one();
  impl_->thread.join();
  if (impl_->error) {
    // A destructor must not throw; the last resort is to say so loudly.
    try {
      std::rethrow_exception(impl_->error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: MetricWriter could not write metrics of run %lld: %s\n",
                   static_cast<long long>(impl_->run_id), e.what());
    } catch (...) {
      std::fprintf(stderr, "flowlab: MetricWriter could not write metrics of run %lld\n",
                   static_cast<long long>(impl_->run_id));
    }
  }
}

void MetricWriter::log(const std::string& node, const std::string& key, int64_t step,
                       double value) {
  log_for(impl_->run_id, node, key, step, value);
}

void MetricWriter::log_for(int64_t run_id, const std::string& node, const std::string& key,
                           int64_t step, double value) {
  const double ts = unix_now();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->rethrow_error();
    impl_->queue.emplace_back(run_id, MetricRow{node, key, step, value, ts});
    ++impl_->logged;
    wake = impl_->queue.size() >= impl_->max_batch;
  }
  if (wake) impl_->wake_writer.notify_one();
}

void MetricWriter::flush() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  impl_->rethrow_error();
  const uint64_t target = impl_->logged;
  if (impl_->done >= target) return;
  impl_->flush_target = std::max(impl_->flush_target, target);
  impl_->wake_writer.notify_one();
  impl_->batch_done.wait(lk, [&] { return impl_->done >= target; });
  impl_->rethrow_error();
}

int64_t MetricWriter::rows_written() const { return impl_->written.load(); }
int64_t MetricWriter::rows_spooled() const { return impl_->spooled.load(); }
int64_t MetricWriter::retries() const { return impl_->retried.load(); }

}  // namespace flowlab::tracking
