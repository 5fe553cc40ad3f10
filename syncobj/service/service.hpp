// The userspace syncobj service: a listening socket, client connections, timelines (each a
// SOCK_SEQPACKET socket whose other end a client holds) and signalers (each the read end of a
// pipe whose write end a client holds), waits, exported and
// imported sync files. Runs in any event loop: add fd() for POLLIN and call dispatch().
// Single-threaded; never blocks.
#pragma once

#include "../core/timeline.hpp"

#include <syncobj/service_limits.hpp>
#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

namespace syncway::syncobj {

class Service {
public:
    using Log = std::function<void(const std::string&)>;
    struct Options {
        ServiceLimits limits;
        Log log; // one line per event worth telling an operator; may be empty
    };

    // Binds `path` (replacing a stale socket file; EADDRINUSE if a live service answers there).
    static Result<std::unique_ptr<Service>> listen_at(const std::string& path, Options options);
    // Takes a listening socket handed over by systemd (LISTEN_FDS); the path is not unlinked.
    static Result<std::unique_ptr<Service>> adopt(UniqueFd listener, Options options);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    int fd() const noexcept;
    // Handles ready events; timeout_ms as for poll (0: never blocks).
    void dispatch(int timeout_ms = 0);
    // dispatch(), with `act` run between handling the events and freeing what they finished.
    void dispatch(int timeout_ms, const std::function<void()>& act);
    const std::string& path() const noexcept;

    // The timeline `fd` (an fd a client sent) is the client end of, or nullptr: how the
    // embedded host recognises its own timelines. Only the very socket the service made
    // matches (device, inode and socket cookie), never another file with the same number.
    std::shared_ptr<core::Timeline> find_timeline(int fd) const;

    size_t connection_count() const noexcept;
    size_t timeline_count() const noexcept;
    size_t pending_object_count() const noexcept; // signalers, exports, imports, eventfd waits
    // The limits in force (max_fds resolved from RLIMIT_NOFILE if it was 0), and the fds held
    // for clients against max_fds.
    const ServiceLimits& limits() const noexcept;
    uint64_t fds_held() const noexcept;

    struct State;
    // Only the factories above can make a State.
    explicit Service(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

} // namespace syncway::syncobj
