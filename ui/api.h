#pragma once
// The JSON API behind `flowlab ui`, apart from HTTP: each endpoint takes the query parameters and
// returns a status, a content type and a body, so unit_core tests it without a socket. server.cpp
// maps URLs onto these and adds the headers every answer carries. Read-only by construction: every
// read goes through read-only connections (tracking/read_only_db.h) and every filter through the
// filter compiler, which binds each value the user typed. No LibTorch here.
//
//   GET /api/runs?filter=&sort=&offset=&limit=&parent=&fold=&view=   a page of runs (runs())
//   GET /api/runs/ID                                                  one run (run())
//   GET /api/runs/ID/artifact?path=P                                  a registered file
//   (artifact()) GET /api/chart/history.svg?runs=1,2&node=&key=&smooth=&logy=      metric against
//   step GET /api/chart/sweep.svg?parent=ID&y=&x=&group=&logx=&logy=       metric against a param
//   GET /api/compare?runs=1,2                                         runs side by side
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tracking/connection.h"

namespace flowlab::ui {

using Params = std::map<std::string, std::string>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // extra headers (Content-Disposition, ...)
  /// Non-empty: send this file as the body (artifact downloads), not `body`.
  std::filesystem::path file;
  /// That file, already opened and checked: the body is read from this descriptor, never from
  /// the path again, so a directory swapped for a link after the check cannot redirect it.
  std::shared_ptr<const int> file_descriptor;
};

/// Where the API reads: the results store, and the directories artifact downloads may come from
/// (a registered file outside all of them is refused).
struct ApiOptions {
  tracking::StoreLocation store;
  std::vector<std::filesystem::path> artifact_roots;
};

class Api {
 public:
  /// Checks that the store can be read (throws StoreError, or ConfigError when a SQLite store has
  /// no file); connections are opened lazily, one per concurrent request, and reused.
  explicit Api(ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  /// A page of runs: {total, offset, limit, folded, runs: [{id, uuid, experiment, name, status,
  /// start_time, end_time, parent_id, children: {STATUS: n}, params: {k: v}, metrics: {"node.key":
  /// v}}], metric_keys, param_keys, notes} (notes, for an empty page: what the filter names that
  /// no run recorded, with a did-you-mean). `filter` is MLflow's grammar (tracking/query.h); `sort`
  /// one key as `flowlab query --sort` takes it; `limit` 1-1000 (default 100). Without a filter and
  /// parent, only top-level runs (sweeps folded: their children are `parent=ID`) unless fold=0.
  /// status is STALE for a RUNNING run whose process is gone. A malformed filter or sort answers
  /// 400 with {error, option, position}.
  Response runs(const Params& params) const;
  /// {run: {... attributes, spec (the composed YAML), overrides}, params, tags, metrics: [{node,
  /// key, value, points}], nodes: [{node, op, status, cache_hit, start_time, end_time, error}],
  /// artifacts: [{node, path, name, kind, size, sha256, url, available}], children: [...]}.
  Response run(int64_t id) const;
  /// The file of one of run `id`'s registered artifacts, `path` exactly as registered. 404 when the
  /// run registered no such path; 403 when the file is not a regular file reached without a
  /// symbolic link, inside an artifact root.
  Response artifact(int64_t id, const std::string& path) const;
  /// SVG of series (node, key) against step for `runs` (ids, at most 50): smoothed (`smooth` in
  /// [0, 1), TensorBoard's debiased exponential moving average) and downsampled to `max_points`
  /// per run (default 2000) keeping each bucket's extremes. Headers X-Flowlab-Points (drawn) and
  /// X-Flowlab-Points-Total (read).
  Response history_chart(const Params& params) const;
  /// SVG of `y` (a metric, or a family NODE.KEY@*) against `x` (a param) over sweep `parent`'s
  /// children, grouped by `group`, repeats aggregated as `flowlab plot` does (agg, error).
  Response sweep_chart(const Params& params) const;
  /// `flowlab compare --all --format json` (cli::compare_json: {runs, params, tags, metrics}, each
  /// keyed by run id) and the series any of them logged more than once: {series: [{node, key,
  /// points}]}.
  Response compare(const Params& params) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A JSON error body {error}.
Response error_response(int status, const std::string& message);
/// The answer for an exception out of an endpoint: the user's mistakes (ConfigError) are 400 (a
/// malformed filter adds the offending `position` and the `option`), a store that cannot be
/// reached 503, anything else 500.
Response error_response_for(std::exception_ptr error);

}  // namespace flowlab::ui
