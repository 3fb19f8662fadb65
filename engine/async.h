// Bridges from callbacks and thread pools to C++20 coroutines (Boost.Asio).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>

#include "events/event_log.h"

namespace causeway {

// Appends and resumes the awaiting coroutine on its own executor once `done`
// has been called by the log.
inline boost::asio::awaitable<Result<Committed>> async_append(EventLog& log, Commit commit) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Result<Committed>)>(
      [&log](auto handler, Commit c) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        // The guard keeps the awaiting coroutine's executor running until the
        // log has answered, so a shutdown never strands an in-flight command.
        auto work = std::make_shared<boost::asio::executor_work_guard<boost::asio::any_io_executor>>(
            boost::asio::get_associated_executor(*h));
        log.append(std::move(c), [h, work](Result<Committed> r) {
          auto ex = boost::asio::get_associated_executor(*h);
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
        });
      },
      boost::asio::use_awaitable, std::move(commit));
}

// Runs fn() on `pool` and resumes the awaiting coroutine on its own executor.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> run_on(boost::asio::any_io_executor pool, F fn) {
  using T = std::invoke_result_t<F>;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      [pool](auto handler, F f) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto work = std::make_shared<boost::asio::executor_work_guard<boost::asio::any_io_executor>>(
            boost::asio::get_associated_executor(*h));
        boost::asio::post(pool, [h, work, f = std::move(f)]() mutable {
          auto ex = boost::asio::get_associated_executor(*h);
          boost::asio::post(ex, [h, r = f()]() mutable { std::move (*h)(std::move(r)); });
        });
      },
      boost::asio::use_awaitable, std::move(fn));
}

}  // namespace causeway
