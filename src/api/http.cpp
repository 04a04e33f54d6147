#include "api/http.hpp"

#include <array>

#include "api/problem.hpp"
#include "core/assert.hpp"

namespace opsbox::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Query keys and values decode leniently: a malformed escape is kept as written, because a
// query parameter the caller never asks for must not make the others unreadable.
std::string DecodeQueryPart(std::string_view text) {
  std::string out;
  if (!PercentDecode(text, /*plus_as_space=*/true, out)) out.assign(text);
  return out;
}

using PathSegments = std::array<std::string_view, Router::kSegmentsMax>;

// Splits "/a/b" into {"a", "b"}; returns the count, or kSegmentsMax + 1 when there are too many
// segments or the path does not start with '/'.
size_t SplitPath(std::string_view path, PathSegments& out) {
  if (path.empty() || path.front() != '/') return Router::kSegmentsMax + 1;
  path.remove_prefix(1);
  size_t count = 0;
  while (true) {
    if (count == Router::kSegmentsMax) return Router::kSegmentsMax + 1;
    size_t slash = path.find('/');
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return count;
}

bool SegmentsMatch(const std::vector<Router::Segment>& segments, const PathSegments& parts,
                   size_t count) {
  if (segments.size() != count) return false;
  for (size_t i = 0; i < count; ++i) {
    bool ok = segments[i].is_param ? !parts[i].empty() : segments[i].text == parts[i];
    if (!ok) return false;
  }
  return true;
}

// True when `list` ("GET, POST") already names `method`.
bool ListsMethod(std::string_view list, std::string_view method) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (TrimSpaces(list.substr(0, comma)) == method) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool PercentDecode(std::string_view text, bool plus_as_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    bool plain_key = key.find_first_of("%+") == std::string_view::npos;
    if (plain_key ? key == name : DecodeQueryPart(key) == name) return DecodeQueryPart(value);
  }
  return std::nullopt;
}

std::string HttpRequest::Cookie(std::string_view name) const {
  for (const auto& [header_name, header_value] : headers) {
    if (header_name != "cookie") continue;
    std::string_view rest = header_value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = TrimSpaces(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || TrimSpaces(pair.substr(0, eq)) != name) continue;
      std::string_view value = TrimSpaces(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return {};
}

void Router::Add(Route route) {
  PathSegments parts;
  size_t count = SplitPath(route.pattern, parts);
  OPSBOX_ASSERT_MSG(count <= kSegmentsMax, "route pattern must start with '/' and be short");
  std::vector<Segment> segments;
  segments.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string_view part = parts[i];
    bool is_param = !part.empty() && part.front() == '{';
    if (is_param) {
      OPSBOX_ASSERT_MSG(part.size() > 2 && part.back() == '}', "route parameter must be {name}");
      part = part.substr(1, part.size() - 2);
    }
    OPSBOX_ASSERT_MSG(part.find_first_of("{}") == std::string_view::npos,
                      "braces are only allowed around a whole segment");
    segments.push_back(Segment{std::string(part), is_param});
  }
  for (size_t r = 0; r < routes_.size(); ++r) {
    const auto& other = segments_[r];
    if (routes_[r]->method != route.method || other.size() != segments.size()) continue;
    bool same_shape = true;
    for (size_t i = 0; i < segments.size() && same_shape; ++i) {
      same_shape = other[i].is_param == segments[i].is_param &&
                   (segments[i].is_param || other[i].text == segments[i].text);
    }
    OPSBOX_ASSERT_MSG(!same_shape, "two routes with the same method and pattern");
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  segments_.push_back(std::move(segments));
}

void Router::AddWebSocket(std::string pattern, std::string permission, std::string summary,
                          WebSocketHandler handler) {
  OPSBOX_ASSERT_MSG(static_cast<bool>(handler), "a WebSocket route needs a handler");
  Access access = permission.empty() ? Access::kPublic : Access::kAuthenticated;
  Handler plain = [](HttpRequest& request, Respond respond) {
    HttpResponse response = ProblemWithStatus(
        426,
        Error::Invalid("Upgrade", "websocket_upgrade",
                       "this route is a WebSocket: send Upgrade: websocket"),
        request.path);
    response.headers.emplace_back("Upgrade", "websocket");
    respond(std::move(response));
  };
  Route route{"GET", std::move(pattern), std::move(permission), access, std::move(summary),
              std::move(plain)};
  route.websocket = std::move(handler);
  Add(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  PathSegments parts;
  size_t count = SplitPath(path, parts);
  if (count > kSegmentsMax) return match;
  const std::vector<Segment>* best = nullptr;
  bool path_known = false;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const auto& segments = segments_[r];
    if (!SegmentsMatch(segments, parts, count)) continue;
    path_known = true;
    if (routes_[r]->method != method) continue;
    bool better = best == nullptr;
    for (size_t i = 0; i < count && !better; ++i) {
      if ((*best)[i].is_param != segments[i].is_param) {
        better = !segments[i].is_param;
        break;
      }
    }
    if (better) {
      best = &segments;
      match.route = routes_[r].get();
    }
  }
  if (best != nullptr) {
    for (size_t i = 0; i < count; ++i) {
      if ((*best)[i].is_param) match.params.emplace((*best)[i].text, parts[i]);
    }
    return match;
  }
  if (!path_known) return match;
  match.method_not_allowed = true;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const std::string& route_method = routes_[r]->method;
    if (!SegmentsMatch(segments_[r], parts, count) || ListsMethod(match.allow, route_method)) {
      continue;
    }
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += route_method;
  }
  return match;
}

}  // namespace opsbox::api
