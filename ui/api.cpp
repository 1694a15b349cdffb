// The dashboard's JSON API (api.h): pages of runs, one run, artifacts, charts, comparisons.
#include "ui/api.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/plot_data.h"
#include "experiments/cli/query_commands.h"
#include "plot/plot.h"
#include "tracking/query.h"
#include "tracking/reader.h"
#include "tracking/store.h"
#include "tracking/store_errors.h"

namespace flowlab::ui {
namespace fs = std::filesystem;
using json = nlohmann::json;
using tracking::SqlValue;

namespace {

// Invalid UTF-8 in a stored name must not make a page fail: it is replaced (U+FFFD).
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response json_response(const json& j, int status = 200) {
  Response r;
  r.status = status;
  r.body = dump(j);
  return r;
}

std::string param(const Params& params, const std::string& name, const std::string& fallback = "") {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

// An integer query parameter in [lo, hi]; `fallback` when absent. Junk is a 400 (ConfigError).
int64_t int_param(const Params& params, const std::string& name, int64_t fallback, int64_t lo,
                  int64_t hi) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty()) return fallback;
  const auto v = parse_int64(it->second);
  if (!v || *v < lo || *v > hi)
    throw ConfigError(
        SourceLocation{"request"}, name,
        fmt::format("expected an integer in [{}, {}], got \"{}\"", lo, hi, it->second));
  return *v;
}

double real_param(const Params& params, const std::string& name, double fallback, double lo,
                  double hi) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty()) return fallback;
  const auto v = parse_double(it->second);
  if (!v || !(*v >= lo && *v <= hi))
    throw ConfigError(SourceLocation{"request"}, name,
                      fmt::format("expected a number in [{}, {}], got \"{}\"", lo, hi, it->second));
  return *v;
}

bool flag_param(const Params& params, const std::string& name) {
  const std::string v = param(params, name);
  return v == "1" || v == "true" || v == "on";
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == sep)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

// "1,2,5" -> ids; at most `most`.
std::vector<int64_t> id_list(const Params& params, const std::string& name, size_t most) {
  std::vector<int64_t> ids;
  for (const auto& part : split(param(params, name), ',')) {
    if (trim(part).empty()) continue;
    const auto id = parse_int64(trim(part));
    if (!id)
      throw ConfigError(SourceLocation{"request"}, name, "expected run ids, got \"" + part + "\"");
    ids.push_back(*id);
  }
  if (ids.empty())
    throw ConfigError(SourceLocation{"request"}, name, "expected at least one run id");
  if (ids.size() > most)
    throw ConfigError(SourceLocation{"request"}, name, fmt::format("at most {} runs", most));
  return ids;
}

json value_json(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return std::isfinite(*d) ? json(*d) : json();
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return nullptr;
}

std::optional<double> real_of(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

// "?, ?, ?" for n binds.
std::string placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(); }

// Opens `rel` (a relative path, no "..") below the directory `root` one component at a time,
// each with O_NOFOLLOW from the descriptor of the one before: no symbolic link below the root is
// ever followed, whatever is swapped on disk meanwhile (a link above the root, in `root` itself,
// is fine). -1 unless the last component is a regular file. O_NONBLOCK: a FIFO put there must not
// block the worker in open().
int open_beneath(const fs::path& root, const fs::path& rel) {
  int dir = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  std::vector<std::string> parts;
  for (const auto& part : rel) parts.push_back(part.string());
  for (size_t i = 0; i < parts.size() && dir >= 0; ++i) {
    const bool last = i + 1 == parts.size();
    if (parts[i] == ".." || parts[i] == "." || parts[i].empty()) {
      close(dir);
      return -1;
    }
    const int next = openat(dir, parts[i].c_str(),
                            last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
                                 : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dir);
    dir = next;
    struct stat st {};
    // O_PATH | O_NOFOLLOW may hand back the link itself rather than fail: only a directory goes on.
    if (!last && dir >= 0 && (fstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
      close(dir);
      return -1;
    }
    if (last && dir >= 0) {
      if (fstat(dir, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(dir);
        return -1;
      }
      return dir;
    }
  }
  if (dir >= 0) close(dir);
  return -1;
}

// The artifact's file, if it may be served: `path` (absolute, as registered) lexically normal,
// inside one of `roots` (as given or resolved), a regular file reached without a symbolic link
// below the root (a link above it, such as a symlinked home directory, is fine). Opened below the
// root without following a link (open_beneath), so no check-then-open gap exists: a directory
// swapped for a link cannot redirect the download, which is read from this descriptor.
std::shared_ptr<const int> open_servable(const fs::path& path, const std::vector<fs::path>& roots) {
  if (!path.is_absolute() || path.lexically_normal() != path) return nullptr;
  for (const auto& root : roots) {
    std::error_code ec;
    for (const fs::path& r :
         {fs::absolute(root, ec).lexically_normal(), fs::weakly_canonical(root, ec)}) {
      const fs::path rel = path.lexically_relative(r);
      if (rel.empty() || *rel.begin() == ".." || rel == ".") continue;
      const int fd = open_beneath(r, rel);
      if (fd < 0) continue;
      return std::shared_ptr<const int>(new int(fd), [](const int* p) {
        close(*p);
        delete p;
      });
    }
  }
  return nullptr;
}

}  // namespace

Response error_response(int status, const std::string& message) {
  return json_response(json{{"error", message}}, status);
}

// The answer for an exception out of the API: the user's mistakes are 400 (a filter's caret
// message with the offending position), a store that cannot be reached 503, anything else 500.
Response error_response_for(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const tracking::QuerySyntaxError& e) {
    return json_response(
        json{{"error", e.what()}, {"position", e.position()}, {"option", e.key_path()}}, 400);
  } catch (const ConfigError& e) {
    return error_response(400, e.what());
  } catch (const tracking::StoreUnavailable& e) {
    return error_response(503, e.what());
  } catch (const tracking::StoreError& e) {
    return error_response(500, e.what());
  } catch (const std::exception& e) {
    return error_response(500, e.what());
  }
}

// Readers are opened on first need, one per concurrent request, and kept: a page then costs
// its queries, not a connection.
struct Api::Impl {
  ApiOptions options;
  mutable std::mutex mutex;
  mutable std::vector<std::unique_ptr<tracking::RunReader>> idle;

  class Lease {
   public:
    explicit Lease(const Impl& impl) : impl_(impl) {
      {
        std::lock_guard<std::mutex> lock(impl_.mutex);
        if (!impl_.idle.empty()) {
          reader_ = std::move(impl_.idle.back());
          impl_.idle.pop_back();
        }
      }
      if (!reader_) reader_ = std::make_unique<tracking::RunReader>(impl_.options.store);
    }
    ~Lease() {
      // A reader that saw the store fail is dropped, so the next request opens a fresh one.
      if (std::uncaught_exceptions() > exceptions_) return;
      std::lock_guard<std::mutex> lock(impl_.mutex);
      impl_.idle.push_back(std::move(reader_));
    }
    const tracking::RunReader& operator*() const { return *reader_; }
    const tracking::RunReader* operator->() const { return reader_.get(); }

   private:
    const Impl& impl_;
    const int exceptions_ = std::uncaught_exceptions();  // those in flight when leased
    std::unique_ptr<tracking::RunReader> reader_;
  };
};

Api::Api(ApiOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  Impl::Lease check(*impl_);  // fails now, not on the first page, when the store cannot be read
}

Api::~Api() = default;

Response Api::runs(const Params& params) const {
  const std::string filter = param(params, "filter");
  const std::string sort = param(params, "sort");
  // Checked on their own first, so a caret points into what the user typed.
  tracking::filter_fields(filter);
  if (!sort.empty()) tracking::parse_sort(sort);
  const int64_t limit = int_param(params, "limit", 100, 1, 1000);
  const int64_t offset = int_param(params, "offset", 0, 0, int64_t{1} << 40);
  const auto parent = params.count("parent")
                          ? std::optional<int64_t>(int_param(params, "parent", 0, 0, INT64_MAX))
                          : std::nullopt;
  const bool folded = !parent && filter.empty() && param(params, "fold", "1") != "0";

  tracking::RunQuery q;
  const std::string view = param(params, "view", "active_only");
  if (view != "active_only" && view != "deleted_only" && view != "all")
    throw ConfigError(SourceLocation{"request"}, "view",
                      "expected active_only, deleted_only or all, got \"" + view + "\"");
  q.view = tracking::run_view_from_string(view);
  std::string scope = parent   ? fmt::format("parent_id = {}", *parent)
                      : folded ? "parent_id IS NULL"
                               : "";
  q.filter = scope.empty() ? filter : filter.empty() ? scope : "(" + filter + ") AND " + scope;
  q.columns = "id,uuid,experiment,name,status,start_time,end_time,parent_id";
  if (!sort.empty()) q.sort = {sort};
  q.limit = static_cast<int>(limit);
  q.offset = offset;

  Impl::Lease reader(*impl_);
  const auto& db = reader->db();
  q.with_total = true;
  const tracking::QueryResult page = tracking::run_query(db, q);
  const int64_t total = *page.total;

  std::vector<int64_t> ids;
  for (const auto& row : page.rows) ids.push_back(std::get<int64_t>(row[0]));
  std::vector<SqlValue> binds(ids.begin(), ids.end());
  const std::string in = "(" + placeholders(ids.size()) + ")";

  // What `flowlab runs` shows as STALE: RUNNING, but its process is gone.
  std::map<int64_t, std::string> shown_status;
  std::map<int64_t, json> children;
  if (!ids.empty()) {
    const auto live = db.execute(
        "SELECT run_id, host, pid, heartbeat FROM run_attributes WHERE status = 'RUNNING' AND "
        "run_id IN " +
            in,
        binds);
    for (const auto& row : live.rows) {
      tracking::RunRow r;
      r.status = tracking::RunStatus::kRunning;
      r.host = std::holds_alternative<std::string>(row[1]) ? std::get<std::string>(row[1]) : "";
      r.pid = real_of(row[2]).value_or(0);
      r.heartbeat = real_of(row[3]);
      shown_status[std::get<int64_t>(row[0])] = cli::display_status(r);
    }
  }
  for (const auto& [parent, counts] : reader->child_status_counts(ids)) children[parent] = counts;
  const auto run_params = reader->params(ids);
  const auto metrics = reader->final_metrics(ids);

  json out{{"total", total},   {"offset", offset},      {"limit", limit},
           {"folded", folded}, {"runs", json::array()}, {"notes", json::array()}};
  // An empty answer says which names in the filter no run recorded (typos, usually).
  if (total == 0) out["notes"] = tracking::unknown_field_notes(db, filter);
  std::map<std::string, int> metric_count;
  std::map<std::string, std::set<std::string>> param_values;
  for (const auto& row : page.rows) {
    const int64_t id = std::get<int64_t>(row[0]);
    json r{{"id", id},
           {"uuid", value_json(row[1])},
           {"experiment", value_json(row[2])},
           {"name", value_json(row[3])},
           {"status", shown_status.count(id) ? json(shown_status[id]) : value_json(row[4])},
           {"start_time", value_json(row[5])},
           {"end_time", value_json(row[6])},
           {"parent_id", value_json(row[7])},
           {"params", json::object()},
           {"metrics", json::object()}};
    if (children.count(id)) r["children"] = children[id];
    if (auto it = run_params.find(id); it != run_params.end())
      for (const auto& [k, v] : it->second) {
        r["params"][k] = v;
        param_values[k].insert(v);
      }
    if (auto it = metrics.find(id); it != metrics.end())
      for (const auto& m : it->second) {
        const std::string name = m.node + "." + m.key;
        r["metrics"][name] = std::isfinite(m.value) ? json(m.value) : json();
        ++metric_count[name];
      }
    out["runs"].push_back(std::move(r));
  }
  // The page's most common metrics first (the default headline columns), then by name; params
  // whose value differs between the page's runs first (what a sweep varied).
  std::vector<std::pair<std::string, int>> by_count(metric_count.begin(), metric_count.end());
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  out["metric_keys"] = json::array();
  for (const auto& [name, n] : by_count) out["metric_keys"].push_back(name);
  out["param_keys"] = json::array();
  out["varying_params"] = json::array();
  for (bool varying : {true, false})
    for (const auto& [k, values] : param_values)
      if ((values.size() > 1) == varying) {
        out["param_keys"].push_back(k);
        if (varying) out["varying_params"].push_back(k);
      }
  return json_response(out);
}

Response Api::run(int64_t id) const {
  const tracking::Store store(impl_->options.store, tracking::Store::Access::kReadOnly);
  const auto row = store.get_run(id);
  if (!row) return error_response(404, fmt::format("no run with id {}", id));
  json run{{"id", row->id},
           {"uuid", row->uuid},
           {"experiment", row->experiment},
           {"name", row->name},
           {"status", cli::display_status(*row)},
           {"parent_id", row->parent_id ? json(*row->parent_id) : json()},
           {"start_time", row->start_time},
           {"end_time", optional_json(row->end_time)},
           {"heartbeat", optional_json(row->heartbeat)},
           {"deleted_at", optional_json(row->deleted_at)},
           {"spec_file", row->spec_file},
           {"spec", row->composed_yaml},
           {"overrides", json::array()},
           {"git_commit", row->git_commit},
           {"host", row->host},
           {"pid", row->pid},
           {"seed", row->seed},
           {"flowlab_version", row->flowlab_version},
           {"error", row->error}};
  try {
    run["overrides"] = json::parse(row->overrides.empty() ? "[]" : row->overrides);
  } catch (const json::exception&) {
    run["overrides"] = json::array({row->overrides});
  }
  json out{{"run", run}, {"params", store.params(id)}, {"tags", store.tags(id)}};

  Impl::Lease reader(*impl_);
  std::map<std::pair<std::string, std::string>, int64_t> points;
  const auto counts = reader->db().execute(
      "SELECT node, key, count(*) FROM run_metrics WHERE run_id = ? GROUP BY node, key", {id});
  for (const auto& r : counts.rows)
    points[{std::get<std::string>(r[0]), std::get<std::string>(r[1])}] = std::get<int64_t>(r[2]);
  out["metrics"] = json::array();
  for (const auto& m : store.final_metrics(id))
    out["metrics"].push_back({{"node", m.node},
                              {"key", m.key},
                              {"value", std::isfinite(m.value) ? json(m.value) : json()},
                              {"points", points[{m.node, m.key}]}});
  out["nodes"] = json::array();
  for (const auto& n : store.node_executions(id))
    out["nodes"].push_back({{"node", n.node},
                            {"op", n.op},
                            {"status", n.status},
                            {"cache_hit", n.cache_hit},
                            {"start_time", n.start_time},
                            {"end_time", n.end_time},
                            {"error", n.error}});
  out["artifacts"] = json::array();
  for (const auto& a : store.artifacts(id))
    out["artifacts"].push_back(
        {{"node", a.node},
         {"path", a.path},
         {"name", fs::path(a.path).filename().string()},
         {"kind", a.kind},
         {"size", a.size},
         {"sha256", a.sha256},
         {"available", open_servable(a.path, impl_->options.artifact_roots) != nullptr}});
  out["children"] = json::array();
  for (const auto& c : store.children(id)) {
    if (c.deleted_at) continue;
    out["children"].push_back({{"id", c.id}, {"name", c.name}, {"status", cli::display_status(c)}});
  }
  out["sweep_parent"] = reader->is_sweep_parent(id);
  return json_response(out);
}

Response Api::artifact(int64_t id, const std::string& path) const {
  const tracking::Store store(impl_->options.store, tracking::Store::Access::kReadOnly);
  if (!store.get_run(id)) return error_response(404, fmt::format("no run with id {}", id));
  const auto artifacts = store.artifacts(id);
  const bool registered =
      std::any_of(artifacts.begin(), artifacts.end(),
                  [&](const tracking::ArtifactRow& a) { return a.path == path; });
  if (!registered)
    return error_response(404, fmt::format("run {} registered no artifact at that path", id));
  auto opened = open_servable(path, impl_->options.artifact_roots);
  if (!opened)
    return error_response(
        403,
        "the artifact is not a regular file reached without symbolic links inside an "
        "artifact root (the workspace; `flowlab ui --artifact-root DIR` adds one)");
  Response r;
  r.content_type = "application/octet-stream";
  r.file = path;
  r.file_descriptor = std::move(opened);
  // Downloaded, never rendered: an SVG or HTML artifact must not run in the dashboard's origin.
  std::string name = fs::path(path).filename().string();
  name.erase(std::remove_if(name.begin(), name.end(),
                            [](char c) {
                              return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
                            }),
             name.end());
  r.headers["Content-Disposition"] = "attachment; filename=\"" + name + "\"";
  return r;
}

Response Api::history_chart(const Params& params) const {
  const auto ids = id_list(params, "runs", 50);
  const std::string node = param(params, "node"), key = param(params, "key");
  if (key.empty()) throw ConfigError(SourceLocation{"request"}, "key", "expected a metric key");
  const double smooth = real_param(params, "smooth", 0, 0, 0.999);
  const auto max_points = static_cast<size_t>(int_param(params, "max_points", 2000, 4, 100000));
  const bool logy = flag_param(params, "logy");

  Impl::Lease reader(*impl_);
  plot::PlotSpec spec;
  spec.title = node.empty() ? key : node + "." + key;
  spec.subtitle =
      smooth > 0 ? fmt::format("smoothed (exponential moving average, weight {})", smooth) : "";
  spec.x_label = "step";
  spec.y_label = key;
  spec.y_scale = logy ? plot::Scale::kLog : plot::Scale::kLinear;
  spec.width = static_cast<int>(int_param(params, "width", 800, 200, 4000));
  spec.height = static_cast<int>(int_param(params, "height", 420, 150, 3000));
  spec.legend_title = ids.size() > 1 ? "run" : "";
  spec.error_style = plot::ErrorStyle::kBars;
  size_t total = 0, drawn = 0;
  for (int64_t id : ids) {
    const auto info = reader->run(id);
    if (!info) return error_response(404, fmt::format("no run with id {}", id));
    const auto history = reader->metric_history(id, node, key);
    std::vector<double> steps, values;
    for (const auto& p : history) {
      // NaN is not drawn; on a log axis neither is anything <= 0 (said in the subtitle).
      if (!std::isfinite(p.value) || (logy && p.value <= 0)) continue;
      steps.push_back(static_cast<double>(p.step));
      values.push_back(p.value);
    }
    total += history.size();
    const auto smoothed = plot::smooth_ema(values, smooth);
    plot::Series s;
    s.name = ids.size() > 1 ? fmt::format("{} {}", id, info->name) : "";
    for (size_t i : plot::downsample_extremes(smoothed, max_points))
      s.points.push_back(plot::Point{steps[i], smoothed[i], smoothed[i], smoothed[i], 1});
    drawn += s.points.size();
    if (!s.points.empty()) spec.series.push_back(std::move(s));
  }
  if (spec.series.empty())
    return error_response(
        404, fmt::format("no run among {} logged {} with a value to draw", ids.size(), spec.title));
  if (drawn < total)
    spec.subtitle += fmt::format("{}{} of {} points drawn (each stretch's extremes)",
                                 spec.subtitle.empty() ? "" : " · ", drawn, total);
  Response r;
  r.content_type = "image/svg+xml";
  r.body = plot::render_svg(spec);
  r.headers["X-Flowlab-Points"] = std::to_string(drawn);
  r.headers["X-Flowlab-Points-Total"] = std::to_string(total);
  return r;
}

Response Api::sweep_chart(const Params& params) const {
  cli::PlotQuery query;
  query.parent = int_param(params, "parent", 0, 0, INT64_MAX);
  query.y = {param(params, "y")};
  query.x = param(params, "x");
  for (const auto& g : split(param(params, "group"), ','))
    if (!trim(g).empty()) query.group.push_back(trim(g));
  query.any_status = flag_param(params, "any_status");
  if (params.count("agg")) query.agg = plot::parse_agg(param(params, "agg"));
  if (params.count("error")) query.error = plot::parse_error_bar(param(params, "error"));
  const cli::PlotData data = cli::load_plot_data(impl_->options.store, query);
  plot::PlotSpec spec = cli::make_plot_spec(data, query);
  spec.x_scale = flag_param(params, "logx") ? plot::Scale::kLog : plot::Scale::kLinear;
  spec.y_scale = flag_param(params, "logy") ? plot::Scale::kLog : plot::Scale::kLinear;
  spec.width = static_cast<int>(int_param(params, "width", 800, 200, 4000));
  spec.height = static_cast<int>(int_param(params, "height", 420, 150, 3000));
  Response r;
  r.content_type = "image/svg+xml";
  r.body = plot::render_svg(spec);
  r.headers["X-Flowlab-Runs"] = std::to_string(data.runs_used.size());
  return r;
}

Response Api::compare(const Params& params) const {
  const auto ids = id_list(params, "runs", 50);
  std::vector<std::string> refs;
  for (int64_t id : ids) refs.push_back(std::to_string(id));
  if (refs.size() < 2)
    throw ConfigError(SourceLocation{"request"}, "runs", "expected at least two runs to compare");
  json out = cli::compare_json(
      cli::compare_table(impl_->options.store, refs, /*all=*/true, cli::Format::kJson));
  // The series any of them logged more than once (a curve to overlay), with the most points
  // one run has.
  Impl::Lease reader(*impl_);
  std::vector<SqlValue> binds(ids.begin(), ids.end());
  const auto counts = reader->db().execute(
      "SELECT node, key, max(n) FROM (SELECT run_id, node, key, count(*) AS n FROM run_metrics "
      "WHERE run_id IN (" +
          placeholders(ids.size()) +
          ") GROUP BY run_id, node, key) AS c "
          "GROUP BY node, key HAVING max(n) > 1 ORDER BY node, key",
      binds);
  out["series"] = json::array();
  for (const auto& row : counts.rows)
    out["series"].push_back({{"node", std::get<std::string>(row[0])},
                             {"key", std::get<std::string>(row[1])},
                             {"points", std::get<int64_t>(row[2])}});
  return json_response(out);
}

}  // namespace flowlab::ui
