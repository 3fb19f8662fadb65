// IdleConnections (engine/workflow/http_pool.h) over socket pairs: the peer
// end shows what the pool did with its end.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "engine/workflow/http_pool.h"

using causeway::workflow::IdleConnections;
using namespace std::chrono_literals;

namespace {

struct Pair {
  int mine = -1, peer = -1;
  Pair() {
    std::array<int, 2> fds{};
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()) == 0);
    mine = fds[0];
    peer = fds[1];
  }
  ~Pair() { ::close(peer); }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  // Whether the pool closed `mine`: the peer then reads end-of-stream, or a
  // reset when `mine` was closed with bytes unread.
  bool closed_by_pool() const {
    char c;
    const ssize_t n = ::recv(peer, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
};

const auto t0 = IdleConnections::Clock::time_point{} + 100s;
const IdleConnections::Limits small{std::chrono::milliseconds(15000), 4, 6};

}  // namespace

TEST_CASE("an idle connection is handed back for its own key only, newest first") {
  IdleConnections pool{small};
  Pair a, b;
  pool.give("http://h:80", {a.mine, false}, t0);
  pool.give("http://h:80", {b.mine, true}, t0 + 1s);
  CHECK_FALSE(pool.take("http://h:81", t0 + 2s).has_value());
  auto first = pool.take("http://h:80", t0 + 2s);
  REQUIRE(first.has_value());
  CHECK(first->fd == b.mine);
  CHECK(first->v6);
  auto second = pool.take("http://h:80", t0 + 2s);
  REQUIRE(second.has_value());
  CHECK(second->fd == a.mine);
  CHECK_FALSE(pool.take("http://h:80", t0 + 2s).has_value());
  CHECK(pool.size() == 0);
  ::close(a.mine);
  ::close(b.mine);
}

TEST_CASE("an idle connection the peer closed, or wrote to unasked, is closed instead of handed back") {
  IdleConnections pool{small};
  Pair closed, chatty, good;
  pool.give("k", {good.mine, false}, t0);
  pool.give("k", {chatty.mine, false}, t0);
  pool.give("k", {closed.mine, false}, t0);
  ::shutdown(closed.peer, SHUT_WR);
  REQUIRE(::send(chatty.peer, "H", 1, 0) == 1);
  auto got = pool.take("k", t0 + 1s);
  REQUIRE(got.has_value());
  CHECK(got->fd == good.mine);
  CHECK(closed.closed_by_pool());
  CHECK(chatty.closed_by_pool());
  CHECK(pool.size() == 0);
  ::close(good.mine);
}

TEST_CASE("a connection idle for idle_max is closed, by take and by the sweep of any other call") {
  IdleConnections pool{small};
  Pair stale, other;
  pool.give("k", {stale.mine, false}, t0);
  pool.give("other", {other.mine, false}, t0);
  CHECK_FALSE(pool.take("k", t0 + small.idle_max).has_value());
  CHECK(stale.closed_by_pool());
  // "other" was never asked for: the sweep closes it all the same.
  CHECK(pool.size() == 0);
  CHECK(other.closed_by_pool());
}

TEST_CASE("beyond the per-key limit of idle connections for one key the oldest is closed") {
  IdleConnections pool{small};
  std::array<Pair, 5> pairs;
  for (std::size_t i = 0; i < pairs.size(); ++i) pool.give("k", {pairs[i].mine, false}, t0);
  CHECK(pool.size() == small.per_key);
  CHECK(pairs[0].closed_by_pool());
  CHECK_FALSE(pairs[1].closed_by_pool());
}

TEST_CASE("beyond the total limit of idle connections the oldest of any key is closed") {
  IdleConnections pool{small};
  std::array<Pair, 7> pairs;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    pool.give("k" + std::to_string(i % 3), {pairs[i].mine, false}, t0 + std::chrono::milliseconds(i));
  CHECK(pool.size() == small.total);
  CHECK(pairs[0].closed_by_pool());
  CHECK_FALSE(pairs[1].closed_by_pool());
  CHECK_FALSE(pairs.back().closed_by_pool());
}
