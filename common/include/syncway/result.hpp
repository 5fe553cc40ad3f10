// Errors as return values for the libraries (C++20 has no std::expected): a value or an errno,
// optionally with a message naming the bad input.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace syncway {

struct Error {
    int code = 0;         // an errno value (EINVAL, ENOENT, ...)
    std::string message;  // for humans: what was wrong, naming the input
};

template <typename T> class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T* operator->() { return &value(); }
    T& operator*() & { return value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

// For operations that return nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(int code, std::string message = {}) { return Error{code, std::move(message)}; }

} // namespace syncway
