#include "http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::http {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return letter || (allow_colon && c == ':') || (!first && digit);
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, error == std::errc() ? end : buffer);
  }
}

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="1",b="2"}` plus an optional extra label (le for histogram buckets); nothing if empty.
void AppendLabels(std::string& out, const MetricLabels& labels, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  auto append = [&](std::string_view name, std::string_view value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    AppendEscaped(out, value, true);
    out += '"';
  };
  for (const auto& [name, value] : labels) append(name, value);
  if (!extra_name.empty()) append(extra_name, extra_value);
  out += '}';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  // Few buckets: a linear scan beats a binary search and needs no allocation.
  size_t bucket = 0;
  while (bucket < upper_bounds_.size() && value > upper_bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  return cumulative;
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

absl::StatusOr<MetricsRegistry::Series*> MetricsRegistry::FindOrAdd(std::string_view name,
                                                                    std::string_view help,
                                                                    Type type, MetricLabels labels,
                                                                    bool* added) {
  if (!IsValidName(name, /*allow_colon=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat("name: not a metric name: ", AsAbsl(name)));
  }
  for (const auto& [label, value] : labels) {
    if (!IsValidName(label, /*allow_colon=*/false) || label.starts_with("__") ||
        (type == Type::kHistogram && label == "le")) {
      return absl::InvalidArgumentError(absl::StrCat("labels: not a label name: ", label));
    }
  }
  auto family_it = std::find_if(families_.begin(), families_.end(),
                                [&](const auto& family) { return family->name == name; });
  if (family_it == families_.end()) {
    families_.push_back(
        std::make_unique<Family>(Family{std::string(name), std::string(help), type, {}}));
    family_it = families_.end() - 1;
  } else if ((*family_it)->type != type) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: ", AsAbsl(name), " is registered with another type"));
  }
  Family& family = **family_it;
  for (Series& series : family.series) {
    if (series.labels == labels) {
      *added = false;
      return &series;
    }
  }
  family.series.push_back(Series{std::move(labels), nullptr, nullptr, nullptr});
  *added = true;
  return &family.series.back();
}

absl::StatusOr<Counter*> MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                                     MetricLabels labels) {
  std::lock_guard lock(mutex_);
  bool added = false;
  absl::StatusOr<Series*> series = FindOrAdd(name, help, Type::kCounter, std::move(labels), &added);
  if (!series.ok()) return series.status();
  if (added) (*series)->counter = std::make_unique<Counter>();
  return (*series)->counter.get();
}

absl::StatusOr<Gauge*> MetricsRegistry::AddGauge(std::string_view name, std::string_view help,
                                                 MetricLabels labels) {
  std::lock_guard lock(mutex_);
  bool added = false;
  absl::StatusOr<Series*> series = FindOrAdd(name, help, Type::kGauge, std::move(labels), &added);
  if (!series.ok()) return series.status();
  if (added) (*series)->gauge = std::make_unique<Gauge>();
  return (*series)->gauge.get();
}

absl::StatusOr<Histogram*> MetricsRegistry::AddHistogram(std::string_view name,
                                                         std::string_view help,
                                                         std::vector<double> upper_bounds,
                                                         MetricLabels labels) {
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      return absl::InvalidArgumentError("upper_bounds: must be finite and strictly increasing");
    }
  }
  std::lock_guard lock(mutex_);
  bool added = false;
  absl::StatusOr<Series*> series =
      FindOrAdd(name, help, Type::kHistogram, std::move(labels), &added);
  if (!series.ok()) return series.status();
  if (added) (*series)->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return (*series)->histogram.get();
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& family : families_) {
    out += "# HELP ";
    out += family->name;
    out += ' ';
    AppendEscaped(out, family->help, false);
    out += "\n# TYPE ";
    out += family->name;
    switch (family->type) {
      case Type::kCounter:
        out += " counter\n";
        break;
      case Type::kGauge:
        out += " gauge\n";
        break;
      case Type::kHistogram:
        out += " histogram\n";
        break;
    }
    for (const Series& series : family->series) {
      if (series.counter != nullptr) {
        out += family->name;
        AppendLabels(out, series.labels);
        absl::StrAppend(&out, " ", series.counter->value(), "\n");
      } else if (series.gauge != nullptr) {
        out += family->name;
        AppendLabels(out, series.labels);
        out += ' ';
        AppendDouble(out, series.gauge->value());
        out += '\n';
      } else if (series.histogram != nullptr) {
        const Histogram& histogram = *series.histogram;
        const std::vector<uint64_t> counts = histogram.CumulativeCounts();
        for (size_t i = 0; i < counts.size(); ++i) {
          std::string bound;
          if (i < histogram.upper_bounds().size()) {
            AppendDouble(bound, histogram.upper_bounds()[i]);
          } else {
            bound = "+Inf";
          }
          absl::StrAppend(&out, family->name, "_bucket");
          AppendLabels(out, series.labels, "le", bound);
          absl::StrAppend(&out, " ", counts[i], "\n");
        }
        absl::StrAppend(&out, family->name, "_sum");
        AppendLabels(out, series.labels);
        out += ' ';
        AppendDouble(out, histogram.sum());
        absl::StrAppend(&out, "\n", family->name, "_count");
        AppendLabels(out, series.labels);
        absl::StrAppend(&out, " ", counts.back(), "\n");
      }
    }
  }
  return out;
}

HttpHandler MetricsHandler(const MetricsRegistry* registry) {
  return [registry](const HttpRequest&) {
    HttpResponse response;
    response.content_type = kPrometheusContentType;
    response.body = std::make_shared<const std::string>(registry->Render());
    return response;
  };
}

}  // namespace keyline::http
