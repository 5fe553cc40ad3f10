// The client side of the userspace service: one SOCK_SEQPACKET connection, requests and
// replies in order under a mutex, timeline fds mapped to service handles through a cache
// validated by each fd's socket cookie (so a closed and reused fd number is never confused).
#pragma once

#include "backend.hpp"

#include <syncobj_service_wire.h>
#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace syncway::syncobj {

class ServiceBackend final : public Backend {
public:
    // path empty: $SYNCWAY_SYNCOBJ_SOCKET, else $XDG_RUNTIME_DIR/syncobjd.sock.
    // trust_fd_cache: SYNCOBJ_OPEN_CACHE_FD_IDENTITY (the caller closes timeline and
    // signaler fds through close_fd only, so a cached fd number needs no identity check).
    static Result<std::unique_ptr<ServiceBackend>> connect(std::string path = {}, bool trust_fd_cache = false);
    static std::string default_path();

    syncobj_backend kind() const override { return SYNCOBJ_BACKEND_SERVICE; }
    int create(uint32_t flags, int* fd) override;
    int wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
             uint32_t flags, uint32_t* first) override;
    int reset(const int* fds, uint32_t count) override;
    int signal(const int* fds, const uint64_t* points, uint32_t count) override;
    int query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags) override;
    int transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags) override;
    int eventfd(int fd, uint64_t point, int event_fd, uint32_t flags) override;
    int export_sync_file(int fd, uint64_t point, int* sync_file) override;
    int import_sync_file(int fd, uint64_t point, int sync_file) override;
    int submit(int fd, uint64_t point, int* signaler) override;
    int signaler_signal(int signaler) override;
    int point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error) override;
    int close_fd(int fd) override;

    int socket_fd() const noexcept { return sock_.get(); }

private:
    ServiceBackend(UniqueFd sock, bool trust_fd_cache) : sock_(std::move(sock)), trust_fd_cache_(trust_fd_cache) {}
    struct Answer {
        syncobj_wire_reply reply{};
        std::vector<uint64_t> payload;
        UniqueFd fd;
    };
    // Sends one request (with an optional fd) and, for ops that have one, reads its reply.
    // Caller holds mu_. Returns 0, -errno of the transport, or -reply.error (message set).
    int call(const void* req, size_t len, int send_fd, Answer* answer);
    int send_only(const void* req, size_t len, int send_fd);
    int handle_for(int fd, uint32_t& handle);
    int handles_for(const int* fds, uint32_t count, std::vector<uint32_t>& out);
    void remember(int fd, uint32_t handle);
    int array_op(uint16_t op, const int* fds, const uint64_t* points, uint32_t count,
                 uint32_t flags, Answer* answer);

    void forget(int fd);

    struct CacheEntry {
        uint64_t cookie = 0; // identity of the file the fd named when cached (fd_identity)
    };
    UniqueFd sock_;
    const bool trust_fd_cache_;
    std::mutex mu_;
    // Both indexed by fd number, the same size. The handles apart (4 bytes an fd, 0: none
    // cached), because a trusted lookup reads nothing else: with thousands of timelines they
    // stay in cache where 16-byte entries would not.
    std::vector<CacheEntry> cache_;
    std::vector<uint32_t> handle_by_fd_;
    // Signaler fd (a pipe's write end) -> our copy of its read end (see submit).
    std::unordered_map<int, UniqueFd> signaler_readers_;
    // Handles of signalers signaled through their pipe since the last request (see send_only).
    std::vector<uint32_t> unflushed_signals_;
    // Reused by array ops and waits (under mu_), so a request allocates nothing once warm.
    std::vector<uint32_t> handles_scratch_;
    std::vector<uint8_t> msg_scratch_;
    std::atomic<uint32_t> next_wait_id_{1};
};

} // namespace syncway::syncobj
