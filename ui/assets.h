#pragma once
// The dashboard's page, script and style sheet (ui/web/), compiled into the program by
// embed_assets.cmake so that `flowlab ui` needs no files beside it and nothing from a network.
#include <string>
#include <vector>

namespace flowlab::ui {

struct Asset {
  const char* url;           // "/", "/static/app.js", ...
  const char* content_type;  // "text/html; charset=utf-8", ...
  std::string body;
};

const std::vector<Asset>& web_assets();

}  // namespace flowlab::ui
