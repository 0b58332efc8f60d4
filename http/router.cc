#include "http/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::http {
namespace {

size_t Index(HttpMethod method) { return static_cast<size_t>(method); }

absl::Status CheckPath(std::string_view field, std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": must start with '/'"));
  }
  return absl::OkStatus();
}

}  // namespace

const HttpHandler* Router::Route::For(HttpMethod method) const {
  if (const HttpHandler& handler = handlers[Index(method)]; handler) return &handler;
  if (method == HttpMethod::kHead && handlers[Index(HttpMethod::kGet)]) {
    return &handlers[Index(HttpMethod::kGet)];
  }
  return nullptr;
}

absl::Status Router::AddTo(Route& route, HttpMethod method, std::string_view path,
                           HttpHandler handler) {
  if (!handler) return absl::InvalidArgumentError("handler: empty");
  HttpHandler& slot = route.handlers[Index(method)];
  if (slot) {
    return absl::InvalidArgumentError(absl::StrCat("path: ", AsAbsl(HttpMethodName(method)), " ",
                                                   AsAbsl(path), " is already routed"));
  }
  slot = std::move(handler);
  // HEAD is allowed wherever GET is, since GET handlers answer it.
  const bool get = static_cast<bool>(route.handlers[Index(HttpMethod::kGet)]);
  const bool head = get || static_cast<bool>(route.handlers[Index(HttpMethod::kHead)]);
  const bool post = static_cast<bool>(route.handlers[Index(HttpMethod::kPost)]);
  route.allow.clear();
  for (auto [present, name] : {std::pair{get, "GET"}, {head, "HEAD"}, {post, "POST"}}) {
    if (!present) continue;
    if (!route.allow.empty()) route.allow += ", ";
    route.allow += name;
  }
  return absl::OkStatus();
}

absl::Status Router::Handle(HttpMethod method, std::string path, HttpHandler handler) {
  if (absl::Status status = CheckPath("path", path); !status.ok()) return status;
  Route& route = exact_[path];
  return AddTo(route, method, path, std::move(handler));
}

absl::Status Router::HandlePrefix(HttpMethod method, std::string prefix, HttpHandler handler) {
  if (absl::Status status = CheckPath("prefix", prefix); !status.ok()) return status;
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const auto& entry) { return entry.first == prefix; });
  if (it == prefixes_.end()) {
    // Keep the longest prefixes first so that Find takes the first match.
    it = std::find_if(prefixes_.begin(), prefixes_.end(),
                      [&](const auto& entry) { return entry.first.size() < prefix.size(); });
    it = prefixes_.insert(it, {prefix, Route{}});
  }
  return AddTo(it->second, method, prefix, std::move(handler));
}

const Router::Route* Router::Find(std::string_view path, std::string_view* suffix) const {
  if (auto it = exact_.find(AsAbsl(path)); it != exact_.end()) {
    *suffix = {};
    return &it->second;
  }
  for (const auto& [prefix, route] : prefixes_) {
    if (path.starts_with(prefix)) {
      *suffix = path.substr(prefix.size());
      return &route;
    }
  }
  return nullptr;
}

}  // namespace keyline::http
