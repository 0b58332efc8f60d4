// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 ships none publicly).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KEYLINE_STATUS_CONCAT_INNER(a, b) a##b
#define KEYLINE_STATUS_CONCAT(a, b) KEYLINE_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define KEYLINE_RETURN_IF_ERROR(expr)                      \
  do {                                                     \
    if (::absl::Status keyline_status_ = (expr); !keyline_status_.ok()) { \
      return keyline_status_;                              \
    }                                                      \
  } while (false)

// `lhs = *expr` when `expr` (a StatusOr) is OK; returns its status otherwise.
#define KEYLINE_ASSIGN_OR_RETURN(lhs, expr) \
  KEYLINE_ASSIGN_OR_RETURN_IMPL(KEYLINE_STATUS_CONCAT(keyline_statusor_, __LINE__), lhs, expr)
#define KEYLINE_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return statusor.status();            \
  lhs = *std::move(statusor)
