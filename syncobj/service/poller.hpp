// An epoll set whose entries are looked up by id, so a source destroyed while events for it
// are still in the current batch is simply skipped instead of being used after free.
#pragma once

#include <syncway/unique_fd.hpp>

#include <sys/epoll.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace syncway::syncobj {

class Poller {
public:
    class Source {
    public:
        virtual ~Source() = default;
        virtual void ready(uint32_t events) = 0;
        // A source of requests that read state (a client connection): handled after the
        // other sources of the same batch. See run_once.
        virtual bool reads_state() const noexcept { return false; }
    };

    Poller() : epoll_(epoll_create1(EPOLL_CLOEXEC)) {}
    bool valid() const noexcept { return epoll_.valid(); }
    int fd() const noexcept { return epoll_.get(); }

    // events 0 still reports EPOLLHUP/EPOLLERR (how the service learns a timeline died).
    bool add(int fd, uint32_t events, Source* source, uint64_t& id)
    {
        id = next_id_++;
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = id;
        if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
            return false;
        sources_[id] = source;
        return true;
    }
    void remove(int fd, uint64_t id)
    {
        if (sources_.erase(id))
            epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    }
    // Stops dispatching `id` now and takes `fd` out of the set at the next flush(), off the
    // path of whatever is being handled. The fd must stay open until then (a closed number
    // could be reused and registered anew before the flush).
    void remove_later(int fd, uint64_t id)
    {
        if (sources_.erase(id))
            unwatch_.push_back(fd);
    }
    void flush()
    {
        for (int fd : unwatch_)
            epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        unwatch_.clear();
    }
    // Handles up to one batch of ready events; timeout_ms as for epoll_wait.
    //
    // State changes first, requests last: a client that signals a kernel fence and then asks
    // for the state of the point it backs must read "signaled", as it would from the kernel.
    // Its fence became ready before its request did, so both are in the same batch, but not
    // necessarily in that order (epoll re-queues a level-triggered fd behind the ones that
    // became ready since it was last reported). So sources that read state go in a second pass.
    int run_once(int timeout_ms)
    {
        epoll_event events[64];
        int n = epoll_wait(epoll_.get(), events, 64, timeout_ms);
        for (bool requests : {false, true})
            for (int i = 0; i < n; i++) {
                uint64_t id = events[i].data.u64; // epoll_event is packed: copy before use
                // Looked up again in the second pass: the first may have destroyed it.
                auto it = sources_.find(id);
                if (it != sources_.end() && it->second->reads_state() == requests)
                    it->second->ready(events[i].events);
            }
        return n;
    }

private:
    UniqueFd epoll_;
    std::unordered_map<uint64_t, Source*> sources_;
    std::vector<int> unwatch_;
    uint64_t next_id_ = 1;
};

} // namespace syncway::syncobj
