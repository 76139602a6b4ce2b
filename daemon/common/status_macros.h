#pragma once

// Early return on a non-OK absl::Status, the way abseil-based codebases do it.
#define NSLAB_RETURN_IF_ERROR(expr)                         \
  do {                                                      \
    if (auto _nslab_status = (expr); !_nslab_status.ok()) { \
      return _nslab_status;                                 \
    }                                                       \
  } while (false)

#define NSLAB_CONCAT_INNER(a, b) a##b
#define NSLAB_CONCAT(a, b) NSLAB_CONCAT_INNER(a, b)

// NSLAB_ASSIGN_OR_RETURN(auto x, MakeX()); returns the status if MakeX() failed.
#define NSLAB_ASSIGN_OR_RETURN(lhs, expr) \
  NSLAB_ASSIGN_OR_RETURN_IMPL(NSLAB_CONCAT(_nslab_or_, __LINE__), lhs, expr)
#define NSLAB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) {                                  \
    return tmp.status();                            \
  }                                                 \
  lhs = std::move(*tmp)
