#include "http/conditional_request.h"

#include <array>

namespace keyline::http {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// The opaque-tag of an entity-tag (with its quotes), ignoring a weakness indicator: weak
// comparison treats W/"x" and "x" alike. Empty when `tag` is not an entity-tag.
std::string_view OpaqueTag(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return {};
  if (tag.substr(1, tag.size() - 2).find('"') != std::string_view::npos) return {};
  return tag;
}

int DigitsValue(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

}  // namespace

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  const std::string_view ours = OpaqueTag(etag);
  if (ours.empty()) return false;
  std::string_view rest = if_none_match;
  while (!rest.empty() && IsOws(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && IsOws(rest.back())) rest.remove_suffix(1);
  if (rest == "*") return true;
  while (!rest.empty()) {
    if (IsOws(rest.front()) || rest.front() == ',') {
      rest.remove_prefix(1);
      continue;
    }
    const size_t open = rest.starts_with("W/") ? 2 : 0;
    if (rest.size() <= open || rest[open] != '"') return false;
    const size_t close = rest.find('"', open + 1);
    if (close == std::string_view::npos) return false;
    if (rest.substr(open, close - open + 1) == ours) return true;
    rest.remove_prefix(close + 1);
    while (!rest.empty() && IsOws(rest.front())) rest.remove_prefix(1);
    if (!rest.empty() && rest.front() != ',') return false;
  }
  return false;
}

std::optional<int64_t> ParseImfFixdate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  bool known_day = false;
  for (std::string_view day : kDays) known_day = known_day || text.substr(0, 3) == day;
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  const int day = DigitsValue(text, 5, 2);
  const int year = DigitsValue(text, 12, 4);
  const int hour = DigitsValue(text, 17, 2);
  const int minute = DigitsValue(text, 20, 2);
  const int second = DigitsValue(text, 23, 2);
  if (!known_day || month == 0 || day < 1 || day > 31 || year < 0 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  return DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

bool IsNotModified(const HttpRequest& request, const HttpResponse& response) {
  if (response.status != 200 || request.method == HttpMethod::kPost) return false;
  if (request.if_none_match.empty() && request.if_modified_since.empty()) return false;
  const HttpHeaders* headers = response.headers.get();
  if (headers == nullptr) return false;
  if (!request.if_none_match.empty()) {
    return IfNoneMatchMatches(request.if_none_match, headers->etag());
  }
  if (!response.last_modified_validates || !headers->last_modified().has_value()) return false;
  const std::optional<int64_t> since = ParseImfFixdate(request.if_modified_since);
  return since.has_value() && *headers->last_modified() <= *since;
}

}  // namespace keyline::http
