// Adapters for the executor's entry wrapper: every argument arrives as a void*, and these convert to whatever
// type the entry declares, so the wrapper needs no knowledge of the parameter types.
#pragma once
#include <cstdint>
#include <type_traits>

namespace xp_args {
struct Pointer {
    void* p;
    template <class T>
    operator T*() const { return static_cast<T*>(p); }
};
template <class S>
struct Scalar {
    S v;
    template <class T, class = std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>>
    operator T() const { return static_cast<T>(v); }
};
template <class S>
inline Scalar<S> scalar(void* p) { return {*static_cast<S*>(p)}; }
}  // namespace xp_args
