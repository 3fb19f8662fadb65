// Errors as values at module boundaries.
//
// Every fallible call that crosses a module boundary returns Result<T> (or Status
// for Result<void>). An Error carries a code that callers act on, a message fit for
// an operator (never personal data or secrets), and, where the error is about one
// field of a request, the RFC 6901 JSON pointer of that field.
//
// Exceptions never cross a module boundary; code that calls throwing libraries
// catches at its edge and converts.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace causeway {

enum class Errc {
  invalid,            // the request is malformed or breaks a rule (4xx)
  not_found,          // the thing asked for does not exist
  conflict,           // expected version mismatch or a taken unique value
  unauthorized,       // no or bad credentials
  forbidden,          // credentials fine, action not allowed
  too_large,          // a request exceeds a configured size
  unavailable,        // retryable: shutting down, I/O trouble, timeout
  corruption,         // stored bytes fail a check; never retry blindly
  limit_exceeded,     // the tenant's plan does not allow more of this (402)
};

const char* errc_name(Errc c) noexcept;

struct Error {
  Errc code;
  std::string message;
  std::string pointer;  // JSON pointer of the offending field, empty if none
  // Extra problem members as the text of a JSON object (e.g. a limit and the
  // usage that reached it), merged into the HTTP problem; empty if none.
  std::string extensions;

  static Error invalid(std::string m, std::string ptr = {}) { return {Errc::invalid, std::move(m), std::move(ptr)}; }
  static Error not_found(std::string m) { return {Errc::not_found, std::move(m), {}}; }
  static Error conflict(std::string m, std::string ptr = {}) { return {Errc::conflict, std::move(m), std::move(ptr)}; }
  static Error unauthorized(std::string m) { return {Errc::unauthorized, std::move(m), {}}; }
  static Error forbidden(std::string m) { return {Errc::forbidden, std::move(m), {}}; }
  static Error too_large(std::string m) { return {Errc::too_large, std::move(m), {}}; }
  static Error unavailable(std::string m) { return {Errc::unavailable, std::move(m), {}}; }
  static Error corruption(std::string m) { return {Errc::corruption, std::move(m), {}}; }
  static Error limit_exceeded(std::string m, std::string ext) {
    return {Errc::limit_exceeded, std::move(m), {}, std::move(ext)};
  }
};

// Result<T>: a T or an Error. Cheap on success; check ok() before value().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}            // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}        // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace causeway
