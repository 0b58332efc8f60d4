#include "cli/batching.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace keyline::cli {

std::vector<BatchRange> SplitIntoBatches(size_t count, size_t batch_size) {
  std::vector<BatchRange> batches;
  if (batch_size == 0) return batches;
  for (size_t begin = 0; begin < count; begin += batch_size) {
    batches.push_back({begin, std::min(count, begin + batch_size)});
  }
  return batches;
}

absl::Status ForEachBatch(size_t count, size_t batch_size,
                          const std::function<absl::Status(const BatchRange&)>& send,
                          Progress* progress) {
  if (batch_size == 0) return absl::InvalidArgumentError("batch size: must be at least 1");
  const std::vector<BatchRange> batches = SplitIntoBatches(count, batch_size);
  for (size_t i = 0; i < batches.size(); ++i) {
    const BatchRange& batch = batches[i];
    if (absl::Status status = send(batch); !status.ok()) {
      return absl::Status(
          status.code(), absl::StrCat("batch ", i + 1, " of ", batches.size(), " (items ",
                                      batch.begin + 1, " to ", batch.end, "): ", status.message()));
    }
    if (progress != nullptr) progress->Advance(static_cast<int64_t>(batch.size()));
  }
  return absl::OkStatus();
}

}  // namespace keyline::cli
