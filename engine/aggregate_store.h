// AggregateStore: loads aggregate state for deciding, through a bounded cache.
//
// State comes from the aggregate record written atomically with the stream's
// events (contract 3). When the record's state format differs from the code's
// (the state struct changed), the state is rebuilt by folding the stream's
// events through the upcaster chain — no migration step is ever needed.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <boost/json/parse.hpp>
#include <list>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "events/event_log.h"
#include "events/upcast.h"

namespace causeway {

template <class S>
struct Loaded {
  S state;
  std::uint64_t version = 0;  // stream version the state reflects; 0 = no stream
};

class AggregateStore {
 public:
  AggregateStore(EventLog& log, const Upcaster& upcaster, std::size_t capacity)
      : log_(log), upcaster_(upcaster), capacity_(capacity) {}

  // A is a traits type: A::State, A::kStateFormat, A::apply(State&, type, data, t).
  template <class A>
  Result<Loaded<typename A::State>> load(const std::string& stream);

  template <class S>
  static std::string encode(const S& s);

  // Called after a commit: newer versions replace older ones, never the reverse.
  void remember(const std::string& stream, AggregateSnapshot snap);
  void forget(const std::string& stream);

 private:
  std::optional<AggregateSnapshot> cached(const std::string& stream);

  EventLog& log_;
  const Upcaster& upcaster_;
  std::size_t capacity_;
  std::mutex mu_;
  std::list<std::string> lru_;  // front = most recent
  std::unordered_map<std::string, std::pair<AggregateSnapshot, std::list<std::string>::iterator>> map_;
};

template <class S>
std::string AggregateStore::encode(const S& s) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(const_cast<S&>(s));
  }
  return std::move(os).str();
}

template <class A>
Result<Loaded<typename A::State>> AggregateStore::load(const std::string& stream) {
  using S = typename A::State;
  auto snap = cached(stream);
  if (!snap) {
    auto stored = log_.load_aggregate(stream);
    if (!stored) return std::move(stored).error();
    snap = std::move(*stored);
    if (snap) remember(stream, *snap);
  }
  if (snap && snap->format == A::kStateFormat) {
    Loaded<S> out;
    try {
      std::istringstream is(snap->bytes, std::ios::binary);
      cereal::PortableBinaryInputArchive ar(is);
      ar(out.state);
    } catch (const std::exception&) {
      return Error::corruption("an aggregate record does not decode");
    }
    out.version = snap->version;
    return out;
  }
  // No record in this format: fold the stream's events.
  Loaded<S> out;
  for (std::uint64_t from = 1;;) {
    auto events = log_.read_stream(stream, from, 1024);
    if (!events) return std::move(events).error();
    for (const auto& e : *events) {
      boost::system::error_code ec;
      auto v = boost::json::parse(e.data, ec);
      if (ec || !v.is_object()) return Error::corruption("an event payload is not a JSON object");
      auto& data = v.as_object();
      auto reached = upcaster_.upcast(e.type, e.schema_version, data);
      if (!reached) return std::move(reached).error();
      A::apply(out.state, e.type, data, e.occurred_at_us);
      out.version = e.stream_version;
    }
    if (events->size() < 1024) break;
    from = out.version + 1;
  }
  return out;
}

}  // namespace causeway
