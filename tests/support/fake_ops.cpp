#include "tests/support/fake_ops.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "common/file_io.h"

namespace flowlab::testing {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::mutex g_log_mutex;
std::vector<SleepInterval> g_sleeps;
std::vector<std::string> g_runs;

void note_run(const std::string& node) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_runs.push_back(node);
}

ArtifactPtr number(double v) { return std::make_shared<Number>(v); }

OpDef op(std::string name, std::vector<ParamSpec> params, std::vector<PortSpec> inputs,
         std::function<ArtifactPtr(OpContext&)> run, std::string output = Number::kType) {
  OpDef d;
  d.name = std::move(name);
  d.summary = "test op";
  d.params = std::move(params);
  d.inputs = std::move(inputs);
  d.output_type = std::move(output);
  d.run = [run = std::move(run)](OpContext& ctx) {
    note_run(ctx.node());
    return run(ctx);
  };
  return d;
}

double in(OpContext& ctx, const std::string& port) { return ctx.input<Number>(port)->value; }

}  // namespace

void Number::save(const fs::path& dir) const {
  write_text_file(dir / "value.txt", fmt::format("{:.17g}\n", value));
}

namespace {
// A number whose output cannot be written: a disk that filled up halfway through the file.
class UnwritableNumber : public Number {
 public:
  using Number::Number;
  void save(const fs::path& dir) const override {
    write_text_file(dir / "value.txt", "12");
    errno = ENOSPC;
    throw WriteError("cannot write " + (dir / "value.txt").string() + ": No space left on device",
                     ENOSPC);
  }
};
}  // namespace

ArtifactPtr Number::load(const fs::path& dir) {
  std::ifstream in(dir / "value.txt");
  double v = 0;
  if (!(in >> v)) throw std::runtime_error("cannot read " + (dir / "value.txt").string());
  return std::make_shared<Number>(v);
}

void Text::save(const fs::path& dir) const {
  std::ofstream out(dir / "text.txt");
  out << text;
}

void register_fake_ops(Registry& r, int const_version) {
  r.add_type({Number::kType, "a double", loader(&Number::load), {"numeric"}});
  r.add_type({Text::kType, "a string", [](const fs::path& dir, const Registry&) -> ArtifactPtr {
                std::ifstream in(dir / "text.txt");
                std::string s((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
                return std::make_shared<Text>(s);
              }});

  OpDef c = op("test.const", {float_param("value", 0.0, "the number")}, {},
               [](OpContext& ctx) { return number(ctx.params().get_float("value")); });
  c.version = const_version;
  r.add(std::move(c));

  r.add(
      op("test.add", {}, {{"a", Number::kType, ""}, {"b", Number::kType, ""}}, [](OpContext& ctx) {
        double sum = in(ctx, "a") + in(ctx, "b");
        ctx.log_metric("sum", sum);
        return number(sum);
      }));

  r.add(op("test.follow", {float_param("offset", 0.0, "added to x")}, {{"x", Number::kType, ""}},
           [](OpContext& ctx) {
             double result = in(ctx, "x") + ctx.params().get_float("offset");
             ctx.log_metric("result", result);
             return number(result);
           }));

  // Lists, maps, a param group and an interface, for the planner's tests.
  r.add(op("test.lists",
           {non_empty(float_list_param("radii", {0, 0.5}, "radii", 0.0)),
            string_list_param("names", {}, "names", {"a", "b"}),
            float_map_param("weights", {{"x", 1.0}}, "weights", 0.0, 1.0)},
           {}, [](OpContext& ctx) {
             double sum = 0;
             for (double x : ctx.params().get_float_list("radii")) sum += x;
             return number(sum);
           }));
  r.add_choice("shape", "test shapes",
               {"square", "a square", {int_param("side", 2, "side", 1.0, 10.0)}, {}});
  r.add_choice("shape", "test shapes",
               {"rect",
                "a rectangle",
                {int_param("w", 1, "width", 1.0), int_param("h", 1, "height", 1.0)},
                {}});
  r.add(op("test.shape", {group_param("model", "shape", "square", "the shape")}, {},
           [](OpContext& ctx) {
             const Params& p = ctx.params();
             return number(p.get_string("model") == "square"
                               ? double(p.get_int("side") * p.get_int("side"))
                               : double(p.get_int("w") * p.get_int("h")));
           }));
  r.add_interface({"numeric", "anything with a value"});
  r.add(op("test.numeric_sink", {}, {{"x", "numeric", "any numeric artifact"}},
           [](OpContext& ctx) { return number(ctx.input<Number>("x")->value); }));
  OpDef threaded =
      op("test.threaded", {float_param("value", 0.0, "the number")}, {}, [](OpContext& ctx) {
        ctx.log_metric("threads", ctx.threads());
        return number(ctx.params().get_float("value"));
      });
  threaded.threads = 2;
  r.add(std::move(threaded));
  auto sleep_body = [](OpContext& ctx) {
    SleepInterval s{ctx.node(), Clock::now(), {}};
    std::this_thread::sleep_for(std::chrono::milliseconds(ctx.params().get_int("ms")));
    s.end = Clock::now();
    {
      std::lock_guard<std::mutex> lock(g_log_mutex);
      g_sleeps.push_back(s);
    }
    ctx.log_metric("threads", ctx.threads());
    return number(static_cast<double>(ctx.params().get_int("ms")));
  };
  r.add(
      op("test.sleep", {int_param("ms", 100, "how long to sleep", 0.0, 10000.0)}, {}, sleep_body));
  OpDef threaded_sleep =
      op("test.threaded_sleep", {int_param("ms", 100, "how long to sleep", 0.0, 10000.0)}, {},
         sleep_body);
  threaded_sleep.threads = 1;
  r.add(std::move(threaded_sleep));

  r.add(op("test.fail", {}, {},
           [](OpContext&) -> ArtifactPtr { throw std::runtime_error("deliberate failure"); }));

  r.add(op("test.wait_for_stop", {}, {}, [](OpContext& ctx) -> ArtifactPtr {
    // The safety limit keeps a broken stop path from hanging the suite; it fails the node instead.
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      ctx.check_cancelled();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    throw std::runtime_error("the stop flag was never set");
  }));

  // Storage errors where a node writes: `where` is "output" (saving its result) or "checkpoint"
  // (a checkpoint's files), `code` the errno the write fails with.
  r.add(op("test.write_error",
           {string_param("where", "output", "output or checkpoint", {"output", "checkpoint"}),
            int_param("code", ENOSPC, "errno of the failed write", 1.0, 200.0)},
           {}, [](OpContext& ctx) -> ArtifactPtr {
             const int code = static_cast<int>(ctx.params().get_int("code"));
             if (ctx.params().get_string("where") == "output")
               return std::make_shared<UnwritableNumber>(1.0);
             ctx.save_checkpoint([&](const fs::path& dir) {
               throw WriteError(
                   "cannot write " + (dir / "state.bin").string() + ": " + std::strerror(code),
                   code);
             });
             return number(2.0);
           }));

  auto counting = [](std::atomic<int>& counter) {
    return [&counter](OpContext& ctx) {
      ++counter;
      double v = ctx.params().get_float("value");
      ctx.log_metric("value", v, 0);
      ctx.log_metric("value", v + 1, 1);
      return number(v);
    };
  };
  r.add(op("test.count", {float_param("value", 1.0, "the number")}, {}, counting(count_runs())));
  OpDef nocache = op("test.count_nocache", {float_param("value", 1.0, "the number")}, {},
                     counting(count_nocache_runs()));
  nocache.cache_output = false;
  r.add(std::move(nocache));

  r.add(op(
      "test.text", {string_param("text", "hello", "the text")}, {},
      [](OpContext& ctx) -> ArtifactPtr {
        return std::make_shared<Text>(ctx.params().get_string("text"));
      },
      Text::kType));

  r.add(op("test.schema",
           {required(int_param("size", 0, "how many", 1.0, 100.0)),
            string_param("mode", "fast", "how", {"fast", "slow", "exact"}),
            inherited(int_param("seed", 0, "random seed", 0.0)),
            float_param("lr", 0.1, "step size", 0.0, std::nullopt, /*min_exclusive=*/true),
            bool_param("flag", false, "a switch")},
           {}, [](OpContext& ctx) {
             return number(static_cast<double>(ctx.params().get_int("size")));
           }));
}

Registry fake_registry(int const_version) {
  Registry r;
  register_fake_ops(r, const_version);
  return r;
}

std::vector<SleepInterval> sleep_log() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  return g_sleeps;
}

std::vector<std::string> runs_log() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  return g_runs;
}

int runs_of(const std::string& node) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  int n = 0;
  for (const auto& r : g_runs) n += r == node;
  return n;
}

std::atomic<int>& count_runs() {
  static std::atomic<int> counter{0};
  return counter;
}

std::atomic<int>& count_nocache_runs() {
  static std::atomic<int> counter{0};
  return counter;
}

void reset_fake_logs() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_sleeps.clear();
  g_runs.clear();
  count_runs() = 0;
  count_nocache_runs() = 0;
}

void RecordingListener::metric(const PlannedNode& node, const std::string& key, int64_t step,
                               double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_.push_back({node.name, key, step, value});
}

void RecordingListener::node_started(const PlannedNode& node) {
  std::lock_guard<std::mutex> lock(mutex_);
  started_.push_back(node.name);
}

void RecordingListener::node_finished(const PlannedNode& node, const NodeOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  finished_[node.name] = outcome.status;
}

std::vector<RecordingListener::Metric> RecordingListener::metrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return metrics_;
}

std::vector<double> RecordingListener::values(const std::string& node,
                                              const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<double> out;
  for (const auto& m : metrics_)
    if (m.node == node && m.key == key) out.push_back(m.value);
  return out;
}

std::vector<std::string> RecordingListener::started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_;
}

std::map<std::string, NodeStatus> RecordingListener::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

}  // namespace flowlab::testing
