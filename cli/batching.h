// Splitting bulk work into RPC-sized batches: keyline-server takes at most 5,000 devices a call,
// and each call is atomic (all of a batch, or none of it).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "cli/progress.h"

namespace keyline::cli {

inline constexpr size_t kMaxDevicesPerCall = 5000;

struct BatchRange {
  size_t begin = 0;  // index of the first item
  size_t end = 0;    // one past the last
  size_t size() const { return end - begin; }
};

// Consecutive ranges of at most `batch_size` (> 0) items covering [0, count); none for 0 items.
std::vector<BatchRange> SplitIntoBatches(size_t count, size_t batch_size);

// Calls `send` for each batch in order and advances `progress` (if given) by each batch's size.
// Stops at the first error and returns it prefixed with
//   "batch K of N (items A to B): "   (1-based, inclusive)
// so the caller can tell the operator which batches went through before it.
absl::Status ForEachBatch(size_t count, size_t batch_size,
                          const std::function<absl::Status(const BatchRange&)>& send,
                          Progress* progress = nullptr);

}  // namespace keyline::cli
